package wiwebhook

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/wi"
)

// podAnnotations are the workload identity annotations read from a pod.
var podAnnotations = []string{
	wi.TokenExpirationAnnotation, wi.SkipContainersAnnotation,
	wi.InjectProxySidecarAnnotation, wi.ProxySidecarPortAnnotation,
}

// saAnnotations are the ones read from its ServiceAccount.
var saAnnotations = []string{wi.ClientIDAnnotation, wi.TenantIDAnnotation, wi.TokenExpirationAnnotation}

// mutateWarnings are the mistakes visible in a labelled pod that v1.6
// admits silently.
func mutateWarnings(pod *corev1.Pod, sa *corev1.ServiceAccount, clientID, tenantID string, skip map[string]bool) []string {
	var w []string
	if clientID == "" {
		w = append(w, fmt.Sprintf("service account %q has no %s annotation, so AZURE_CLIENT_ID is not set and Azure SDKs in pod %s cannot pick an identity: annotate the service account with the identity's client ID and recreate the pod",
			sa.Name, wi.ClientIDAnnotation, podRef(pod)))
	}
	if tenantID == "" {
		if _, ok := sa.Annotations[wi.TenantIDAnnotation]; ok {
			w = append(w, fmt.Sprintf("service account %q has an empty %s annotation, so AZURE_TENANT_ID is not set: give it the tenant ID or remove it to use the webhook's tenant",
				sa.Name, wi.TenantIDAnnotation))
		}
	}
	if unknown := unknownContainers(pod, skip); len(unknown) > 0 {
		w = append(w, fmt.Sprintf("%s names %s, which the pod has no container or init container of: those names skip nothing; separate names with \";\"",
			wi.SkipContainersAnnotation, quoteAll(unknown)))
	}
	if _, ok := pod.Annotations[wi.InjectProxySidecarAnnotation]; ok {
		w = append(w, fmt.Sprintf("podid injects no proxy sidecar (%s): apps that call IMDS get their tokens from podid's node agent, which exchanges this pod's own projected token, so the pod needs neither the proxy nor its privileged init container",
			wi.InjectProxySidecarAnnotation))
	}
	w = append(w, misplacedOnPod(pod)...)
	return w
}

// Advise returns the warnings for a pod the mutating webhook does not see:
// one without wi.UseLabel: "true" whose labels, annotations or ServiceAccount
// show that workload identity was meant. sa is nil when it is not known.
// It never refuses a pod.
func Advise(pod *corev1.Pod, sa *corev1.ServiceAccount) []string {
	var w []string
	fix := fmt.Sprintf("add the label %s: \"true\" to the pod (for a Deployment or Job, to spec.template.metadata.labels)", wi.UseLabel)
	if v, ok := pod.Labels[wi.UseLabel]; ok && v != "true" {
		if strings.EqualFold(v, "true") {
			w = append(w, fmt.Sprintf("label %s is %q, not \"true\", so no workload identity is injected into pod %s: the value is case-sensitive; %s",
				wi.UseLabel, v, podRef(pod), fix))
		}
		// Any other value ("false") turns injection off on purpose.
		return w
	}
	if _, ok := pod.Labels[wi.UseLabel]; !ok {
		if _, ok := pod.Annotations[wi.UseLabel]; ok {
			w = append(w, fmt.Sprintf("pod %s has %s as an annotation, where it selects nothing, so no workload identity is injected: %s",
				podRef(pod), wi.UseLabel, fix))
		} else if on := present(pod.Annotations, podAnnotations); len(on) > 0 {
			w = append(w, fmt.Sprintf("pod %s has the annotation %s but not the label %s: \"true\", so no workload identity is injected: %s",
				podRef(pod), strings.Join(on, ", "), wi.UseLabel, fix))
		} else if sa != nil && sa.Annotations[wi.ClientIDAnnotation] != "" {
			w = append(w, fmt.Sprintf("service account %q has the annotation %s but pod %s lacks the label %s: \"true\", so no workload identity is injected: %s",
				sa.Name, wi.ClientIDAnnotation, podRef(pod), wi.UseLabel, fix))
		}
	}
	if sa != nil && sa.Labels[wi.UseLabel] != "" {
		w = append(w, fmt.Sprintf("service account %q has the label %s, which selects nothing since workload identity v1.0: %s",
			sa.Name, wi.UseLabel, fix))
	}
	return append(w, misplacedOnPod(pod)...)
}

// misplacedOnPod warns of ServiceAccount annotations written on the pod.
func misplacedOnPod(pod *corev1.Pod) []string {
	var w []string
	for _, key := range present(pod.Annotations, saAnnotations) {
		if key == wi.TokenExpirationAnnotation {
			continue // read from both
		}
		w = append(w, fmt.Sprintf("pod %s has the annotation %s, which is read from the pod's service account only: move it to service account %q",
			podRef(pod), key, wi.ServiceAccountOf(&pod.Spec)))
	}
	return w
}

func unknownContainers(pod *corev1.Pod, skip map[string]bool) []string {
	var unknown []string
	for name := range skip {
		if name == "" {
			continue
		}
		if !slices.ContainsFunc(pod.Spec.Containers, named(name)) && !slices.ContainsFunc(pod.Spec.InitContainers, named(name)) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	return unknown
}

func named(name string) func(corev1.Container) bool {
	return func(c corev1.Container) bool { return c.Name == name }
}

// present lists the keys of m among keys, in keys' order.
func present(m map[string]string, keys []string) []string {
	var on []string
	for _, k := range keys {
		if _, ok := m[k]; ok {
			on = append(on, k)
		}
	}
	return on
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
