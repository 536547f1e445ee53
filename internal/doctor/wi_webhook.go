package doctor

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// selectingWebhook is a mutating webhook the API server calls when a pod
// labelled azure.workload.identity/use: "true" is created.
type selectingWebhook struct {
	config *admissionregistrationv1.MutatingWebhookConfiguration
	hook   *admissionregistrationv1.MutatingWebhook
}

// selectingWebhooks are the webhooks of every configuration whose rules
// cover creating v1 pods and whose object selector matches the label.
func selectingWebhooks(f *Facts) []selectingWebhook {
	var out []selectingWebhook
	for i := range f.WI.Webhooks {
		c := &f.WI.Webhooks[i]
		for j := range c.Webhooks {
			if h := &c.Webhooks[j]; selectsLabelledPods(h) {
				out = append(out, selectingWebhook{config: c, hook: h})
			}
		}
	}
	return out
}

func selectsLabelledPods(h *admissionregistrationv1.MutatingWebhook) bool {
	if h.ObjectSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(h.ObjectSelector)
		if err != nil || !sel.Matches(labels.Set{wi.UseLabel: "true"}) {
			return false
		}
	}
	for _, r := range h.Rules {
		if anyOf(r.APIGroups, "") && anyOf(r.APIVersions, "v1") && anyOf(r.Resources, "pods") &&
			(anyOf(operations(r.Operations), string(admissionregistrationv1.Create))) {
			return true
		}
	}
	return false
}

func operations(ops []admissionregistrationv1.OperationType) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = string(o)
	}
	return out
}

// anyOf reports whether a rule's list names v or "*".
func anyOf(list []string, v string) bool {
	for _, x := range list {
		if x == v || x == "*" {
			return true
		}
	}
	return false
}

// checkWIWebhook: labelled pods get their token only from the mutating
// webhook. Without a configuration selecting them they start without it;
// with one whose Service has no ready endpoint, the API server refuses to
// create them (failurePolicy Fail, v1.6's) or creates them bare (Ignore).
// A webhook called by URL (podid up's, outside the cluster) is only
// checked to be registered.
func checkWIWebhook(f *Facts) []Finding {
	labelled := 0
	for i := range f.Pods {
		if p := &f.Pods[i]; wiLabelled(p) && wiRunning(p) && f.PodInScope(p) {
			labelled++
		}
	}
	hooks := selectingWebhooks(f)
	ours := false
	for _, c := range f.WI.Webhooks {
		ours = ours || c.Name == wiwebhook.DefaultConfigName
		for _, h := range c.Webhooks {
			ours = ours || h.Name == wiwebhook.MutateWebhookName
		}
	}
	if labelled == 0 && !ours && len(hooks) == 0 {
		return nil
	}
	if couldNotList(f, "MutatingWebhookConfigurations") {
		return []Finding{{Status: Skip, Message: "the webhook configurations could not be read (see gather)", Fix: GrantReadCommand()}}
	}
	if len(hooks) == 0 {
		ev := []string{fmt.Sprintf("%d labelled pod%s in scope", labelled, plural(labelled, "", "s"))}
		for _, c := range f.WI.Webhooks {
			for _, h := range c.Webhooks {
				if h.Name == wiwebhook.MutateWebhookName {
					ev = append(ev, fmt.Sprintf("MutatingWebhookConfiguration %s has webhook %s, but its rules or object selector do not select pods labelled %s=true", c.Name, h.Name, wi.UseLabel))
				}
			}
		}
		return []Finding{{Status: Fail,
			Message:  fmt.Sprintf("No MutatingWebhookConfiguration selects pods labelled %s: \"true\", so they start without their token and AZURE_* variables.", wi.UseLabel),
			Evidence: ev, Fix: installWebhookCmd(f)}}
	}
	out := make([]Finding, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, webhookServes(f, h))
	}
	return out
}

// webhookServes is the verdict on one webhook: registered by URL, or
// backed by a Service with ready endpoints.
func webhookServes(f *Facts, h selectingWebhook) Finding {
	obj := Object("MutatingWebhookConfiguration", "", h.config.Name)
	cc := h.hook.ClientConfig
	if cc.URL != nil {
		return Finding{Status: Pass, Object: obj, Message: fmt.Sprintf("webhook %s is registered and called at %s, outside the cluster", h.hook.Name, *cc.URL)}
	}
	if cc.Service == nil {
		return Finding{Status: Fail, Object: obj, Message: fmt.Sprintf("webhook %s names neither a URL nor a Service, so the API server cannot call it", h.hook.Name), Fix: installWebhookCmd(f)}
	}
	svc := key(cc.Service.Namespace, cc.Service.Name)
	b, read := f.WI.Backends[svc]
	switch {
	case !read:
		return Finding{Status: Skip, Object: obj, Message: fmt.Sprintf("the webhook's Service %s was not read", svc)}
	case b.Err != "":
		return Finding{Status: Skip, Object: obj, Message: fmt.Sprintf("the webhook's Service %s could not be read", svc), Evidence: []string{b.Err}, Fix: GrantReadCommand()}
	}
	refused := "the API server refuses to create labelled pods until one is"
	if h.hook.FailurePolicy != nil && *h.hook.FailurePolicy == admissionregistrationv1.Ignore {
		refused = "labelled pods are created without their token until one is"
	}
	if !b.Exists {
		return Finding{Status: Fail, Object: obj,
			Message: fmt.Sprintf("webhook %s calls Service %s, which does not exist: %s", h.hook.Name, svc, refused), Fix: installWebhookCmd(f)}
	}
	var ev []string
	if b.ReadyEndpoints >= 0 {
		ev = append(ev, fmt.Sprintf("Service %s: %d ready endpoint%s", svc, b.ReadyEndpoints, plural(b.ReadyEndpoints, "", "s")))
	}
	// The endpoints are what the API server calls; without them, the
	// Deployments' ready replicas are the next best evidence.
	ready, replicas := b.ReadyEndpoints, 0
	for _, w := range b.Workloads {
		ev = append(ev, fmt.Sprintf("%s: %d of %d replicas ready", w.Object, w.Ready, w.Desired))
		replicas += int(w.Ready)
	}
	if ready < 0 && len(b.Workloads) > 0 {
		ready = replicas
	}
	switch {
	case ready > 0:
		return Finding{Status: Pass, Object: obj, Message: fmt.Sprintf("webhook %s is served by Service %s", h.hook.Name, svc), Evidence: ev}
	case ready < 0:
		return Finding{Status: Skip, Object: obj, Message: fmt.Sprintf("whether Service %s has ready endpoints could not be read", svc), Evidence: ev}
	}
	msg := fmt.Sprintf("webhook %s has no ready endpoint behind Service %s: %s ready", h.hook.Name, svc, refused)
	if len(b.Workloads) == 0 {
		return Finding{Status: Fail, Object: obj, Message: msg, Evidence: append(ev, "no Deployment's pods match the Service's selector"), Fix: installWebhookCmd(f)}
	}
	w := b.Workloads[0]
	ns, name := objectNamespace(w.Object), objectName(w.Object)
	fix := fmt.Sprintf("kubectl -n %s logs deployment/%s", ns, name)
	if w.Desired == 0 {
		fix = fmt.Sprintf("kubectl -n %s scale deployment/%s --replicas=2", ns, name)
	}
	return Finding{Status: Fail, Object: obj, Message: msg, Evidence: ev, Fix: fix}
}

// installWebhookCmd runs the webhook the way podid was installed: podid
// up again, the Helm release with the webhook on, or the static manifest.
func installWebhookCmd(f *Facts) string {
	if up := f.Supervised; up != nil {
		return fmt.Sprintf("podid down --state-dir %s && podid up --state-dir %[1]s", up.StateDir)
	}
	for _, c := range f.Components {
		if c.Product == "podid" && c.HelmRelease != "" {
			ns, rel, _ := strings.Cut(c.HelmRelease, "/")
			return fmt.Sprintf("helm upgrade -n %s %s <podid chart> --reuse-values --set workloadIdentity.enabled=true", ns, rel)
		}
	}
	return "kubectl apply -f deploy/podid.yaml   # podid's manifest, the webhook included"
}
