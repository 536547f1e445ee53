package doctor

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// wiChecks are the checks of workload identity: pods labelled
// azure.workload.identity/use, their ServiceAccounts, the webhook and,
// with cloud access, the federated credentials.
func wiChecks() []Check {
	return []Check{
		CheckFunc{CheckName: "wi-pod-label", Fn: checkWIPodLabel},
		CheckFunc{CheckName: "wi-service-account", Fn: checkWIServiceAccount},
		CheckFunc{CheckName: "wi-injection", Fn: checkWIInjection},
		CheckFunc{CheckName: "wi-webhook", Fn: checkWIWebhook},
		CheckFunc{CheckName: "wi-federated-credential", Fn: checkWIFederatedCredential},
		CheckFunc{CheckName: "wi-token-refusals", Fn: checkWITokenRefusals},
	}
}

// wiIntent says why a pod without the label was meant to use workload
// identity, and whether that is certain (the label with another case, the
// webhook's annotations on the pod) or only likely (its ServiceAccount
// names a client ID, which pods that need no Azure token may share). The
// rules are the warning webhook's (wiwebhook.Advise); a value other than
// "true" in any case turns injection off on purpose.
func wiIntent(f *Facts, p *corev1.Pod) (why string, certain bool) {
	if v, ok := p.Labels[wi.UseLabel]; ok {
		if v != "true" && strings.EqualFold(v, "true") {
			return fmt.Sprintf("label %s=%q: the webhook selects only the exact value \"true\"", wi.UseLabel, v), true
		}
		return "", false
	}
	if on := wiPodAnnotations(p); len(on) > 0 {
		return fmt.Sprintf("the pod has the annotation %s, which the webhook reads only from pods labelled %s=true", strings.Join(on, ", "), wi.UseLabel), true
	}
	if id := clientIDOf(f, p); id != "" {
		return fmt.Sprintf("ServiceAccount %s/%s has %s=%s", p.Namespace, wi.ServiceAccountOf(&p.Spec), wi.ClientIDAnnotation, id), false
	}
	return "", false
}

// checkWIPodLabel: the webhook selects pods by the label alone; a pod
// meant for workload identity without it starts with no token and no
// AZURE_CLIENT_ID, and Azure SDKs fall back to other credentials.
func checkWIPodLabel(f *Facts) []Finding {
	var out []Finding
	labelled := 0
	for i := range f.Pods {
		if p := &f.Pods[i]; wiLabelled(p) && wiRunning(p) && f.PodInScope(p) && clientIDOf(f, p) != "" {
			labelled++
		}
	}
	for _, w := range byWorkload(f, func(p *corev1.Pod) bool { why, _ := wiIntent(f, p); return why != "" }) {
		p := w.pods[0]
		why, certain := wiIntent(f, p)
		status := Warn
		if certain {
			status = Fail
		}
		ev := []string{why, "pods " + w.podNames()}
		for _, adv := range wiwebhook.Advise(p, f.ServiceAccount(p.Namespace, wi.ServiceAccountOf(&p.Spec))) {
			ev = append(ev, "the warning webhook told whoever created it: "+adv)
		}
		out = append(out, Finding{Status: status, Object: w.object(),
			Message:  fmt.Sprintf("The pods are meant to use workload identity but lack the label %s: \"true\", so the webhook injects no token and no AZURE_CLIENT_ID into them.", wi.UseLabel),
			Evidence: ev, Fix: addLabelCmd(w)})
	}
	if len(out) > 0 {
		return out
	}
	return objPass(labelled, objPlural(labelled, "pod whose ServiceAccount names a client ID carries the label", "pods whose ServiceAccounts name a client ID carry the label"))
}

// checkWIServiceAccount: the webhook takes AZURE_CLIENT_ID from the pod's
// ServiceAccount; without the annotation it injects the token but no
// client ID, and the SDKs cannot tell which identity to sign in as.
func checkWIServiceAccount(f *Facts) []Finding {
	if couldNotList(f, "ServiceAccounts") {
		return nil
	}
	var out []Finding
	ok := 0
	for _, w := range byWorkload(f, wiLabelled) {
		p := w.pods[0]
		sa := wi.ServiceAccountOf(&p.Spec)
		if clientIDOf(f, p) != "" {
			ok += len(w.pods)
			continue
		}
		account := f.ServiceAccount(p.Namespace, sa)
		ev := []string{fmt.Sprintf("pods %s run as ServiceAccount %s", w.podNames(), sa)}
		clientID := "<client ID>"
		for _, c := range p.Spec.Containers {
			if v := envOf(c, wi.EnvClientID); v != "" {
				clientID = v
				ev = append(ev, fmt.Sprintf("container %s sets %s=%s", c.Name, wi.EnvClientID, v))
				break
			}
		}
		annotate := fmt.Sprintf("kubectl -n %s annotate serviceaccount %s %s=%s --overwrite", p.Namespace, sa, wi.ClientIDAnnotation, guidOr(clientID))
		msg := fmt.Sprintf("ServiceAccount %s/%s has no %s annotation, so the webhook injects no AZURE_CLIENT_ID and Azure SDKs in the pods cannot tell which identity to sign in as.", p.Namespace, sa, wi.ClientIDAnnotation)
		if account == nil {
			annotate = fmt.Sprintf("kubectl -n %s create serviceaccount %s && %s", p.Namespace, sa, annotate)
			msg = fmt.Sprintf("ServiceAccount %s/%s, which the pods run as, does not exist, so no client ID is injected and no token can be issued for new pods.", p.Namespace, sa)
		}
		out = append(out, Finding{Status: Fail, Object: w.object(), Message: msg, Evidence: ev,
			Fix: annotate + " && " + restartCmd(w)})
	}
	if len(out) > 0 {
		return out
	}
	return objPass(ok, objPlural(ok, "labelled pod's ServiceAccount names a client ID", "labelled pods' ServiceAccounts each name a client ID"))
}

// checkWIInjection: the webhook mutates a pod only when it is created. A
// labelled pod without AZURE_FEDERATED_TOKEN_FILE was created before the
// label or the webhook, or while no webhook was called; one without
// AZURE_CLIENT_ID although its ServiceAccount now names one was created
// before the annotation. Either way the pod must be created again.
func checkWIInjection(f *Facts) []Finding {
	var out []Finding
	ok := 0
	for _, w := range byWorkload(f, wiLabelled) {
		var ev []string
		var missing []string
		for _, p := range w.pods {
			if cs := containersMissing(p, wi.EnvFederatedTokenFile); len(cs) > 0 {
				ev = append(ev, fmt.Sprintf("pod %s (created %s): containers %s have no %s", p.Name, p.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z"), strings.Join(cs, ", "), wi.EnvFederatedTokenFile))
				missing = append(missing, wi.EnvFederatedTokenFile)
				continue
			}
			if clientIDOf(f, p) == "" {
				continue // wi-service-account says so
			}
			if cs := containersMissing(p, wi.EnvClientID); len(cs) > 0 {
				ev = append(ev, fmt.Sprintf("pod %s: containers %s have no %s although ServiceAccount %s names %s", p.Name, strings.Join(cs, ", "), wi.EnvClientID, wi.ServiceAccountOf(&p.Spec), clientIDOf(f, p)))
				missing = append(missing, wi.EnvClientID)
			}
		}
		if len(ev) == 0 {
			ok += len(w.pods)
			continue
		}
		out = append(out, Finding{Status: Fail, Object: w.object(), Message: injectionMessage(f, w, missing), Evidence: ev, Fix: restartCmd(w)})
	}
	if len(out) > 0 {
		return out
	}
	return objPass(ok, objPlural(ok, "labelled pod has the webhook's token and client ID", "labelled pods have the webhook's token and client ID"))
}

// injectionMessage says why labelled pods lack what the webhook injects,
// from what the facts show: no webhook, one registered after the pods, or
// a client ID annotated after them.
func injectionMessage(f *Facts, w workloadPods, missing []string) string {
	if !slices.Contains(missing, wi.EnvFederatedTokenFile) {
		return fmt.Sprintf("The pods were created before their ServiceAccount named a client ID, so they have the token but no %s: create them again.", wi.EnvClientID)
	}
	cfgs := selectingWebhooks(f)
	if len(cfgs) == 0 {
		return "No webhook injected the workload-identity token into the labelled pods, and none is registered now (see wi-webhook): once it is, create the pods again."
	}
	first := w.pods[0].CreationTimestamp.Time
	for _, p := range w.pods {
		if p.CreationTimestamp.Time.Before(first) {
			first = p.CreationTimestamp.Time
		}
	}
	for _, c := range cfgs {
		if created := c.config.CreationTimestamp.Time; created.After(first) {
			return fmt.Sprintf("The pods were created before the webhook was registered (MutatingWebhookConfiguration %s, created %s), so they have no %s: create them again.", c.config.Name, created.UTC().Format("2006-01-02T15:04:05Z"), wi.EnvFederatedTokenFile)
		}
	}
	return fmt.Sprintf("The pods have no %s: they were created before they had the label, or while the webhook was not called; create them again.", wi.EnvFederatedTokenFile)
}
