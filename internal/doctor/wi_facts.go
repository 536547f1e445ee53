package doctor

import (
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/wi"
)

// WIFacts is what workload identity (azure-workload-identity v1.6's
// contract, internal/wi) depends on besides pods: the ServiceAccounts that
// carry the client ID and the webhook that injects it.
type WIFacts struct {
	// ServiceAccounts of every namespace.
	ServiceAccounts []corev1.ServiceAccount
	// Webhooks are the cluster's MutatingWebhookConfigurations.
	Webhooks []admissionregistrationv1.MutatingWebhookConfiguration
	// Backends are what serves each service-backed webhook that selects
	// labelled pods, by its Service "namespace/name".
	Backends map[string]WebhookBackend
}

// WebhookBackend is what answers the API server's calls to a
// service-backed webhook.
type WebhookBackend struct {
	// Exists is whether the Service exists; Err is why it could not be
	// read.
	Exists bool
	Err    string
	// ReadyEndpoints counts the ready endpoints of the Service's
	// EndpointSlices; -1 when they could not be listed.
	ReadyEndpoints int
	// Workloads are the Deployments whose pods the Service selects.
	Workloads []Workload
}

// Workload is a Deployment and its replica counts.
type Workload struct {
	Object         string
	Desired, Ready int32
}

// WIIdentity is a user-assigned identity a ServiceAccount's client-id
// annotation names, as the cloud shows it.
type WIIdentity struct {
	ResourceID           string
	FederatedCredentials []FederatedCredential
}

// wiLabelled reports whether the webhook injects into p: the label's value
// is exactly "true", as v1.6's objectSelector requires.
func wiLabelled(p *corev1.Pod) bool { return p.Labels[wi.UseLabel] == "true" }

// wiRunning reports whether p still runs or will: a finished pod needs no
// token.
func wiRunning(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// wiPodAnnotations are the pod's azure.workload.identity/ annotations:
// meant for the webhook, which reads them only from labelled pods.
func wiPodAnnotations(p *corev1.Pod) []string {
	var out []string
	for k := range p.Annotations {
		if strings.HasPrefix(k, "azure.workload.identity/") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ServiceAccount returns the ServiceAccount ns/name, or nil.
func (f *Facts) ServiceAccount(ns, name string) *corev1.ServiceAccount {
	for i := range f.WI.ServiceAccounts {
		if sa := &f.WI.ServiceAccounts[i]; sa.Namespace == ns && sa.Name == name {
			return sa
		}
	}
	return nil
}

// clientIDOf is the client ID p's ServiceAccount names, or "".
func clientIDOf(f *Facts, p *corev1.Pod) string {
	if sa := f.ServiceAccount(p.Namespace, wi.ServiceAccountOf(&p.Spec)); sa != nil {
		return strings.TrimSpace(sa.Annotations[wi.ClientIDAnnotation])
	}
	return ""
}

// wiSubject is the subject of the ServiceAccount's tokens.
func wiSubject(ns, sa string) string { return "system:serviceaccount:" + ns + ":" + sa }

// containersMissing names p's containers that the webhook injects into
// (all but wi.SkipContainersAnnotation's) and that lack env variable name.
func containersMissing(p *corev1.Pod, name string) []string {
	skip := map[string]bool{}
	for _, c := range strings.Split(p.Annotations[wi.SkipContainersAnnotation], ";") {
		skip[strings.TrimSpace(c)] = true
	}
	var out []string
	for _, c := range p.Spec.Containers {
		if skip[c.Name] || envOf(c, name) != "" {
			continue
		}
		out = append(out, c.Name)
	}
	return out
}

// envOf is the value of c's variable name, or "".
func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
