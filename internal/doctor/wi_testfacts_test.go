package doctor

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/podid/podid/internal/wi"
	"github.com/podid/podid/internal/wiwebhook"
)

// Builders of the objects the workload-identity checks' tests put into
// Facts.

const wiClientID = "5b1d7c3e-9f2a-4e6b-8c0d-1a2b3c4d5e6f"

// wiPod is a running pod of ns labelled azure.workload.identity/use:
// "true", run as ServiceAccount "app", with one container "app" holding
// what the webhook injects.
func wiPod(ns, name string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := pod(ns, name, "")
	p.Labels = map[string]string{wi.UseLabel: "true"}
	p.Spec.ServiceAccountName = "app"
	p.Spec.Containers = []corev1.Container{{Name: "app", Env: []corev1.EnvVar{
		{Name: wi.EnvClientID, Value: wiClientID}, {Name: wi.EnvFederatedTokenFile, Value: wiwebhook.TokenFile},
	}}}
	for _, m := range mods {
		m(p)
	}
	return p
}

// useLabel sets the label to v, or removes it when v is "".
func useLabel(v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		delete(p.Labels, wi.UseLabel)
		if v != "" {
			p.Labels[wi.UseLabel] = v
		}
	}
}

// uninjected removes what the webhook injects, as in a pod it never saw.
func uninjected(p *corev1.Pod) { p.Spec.Containers[0].Env = nil }

// ofDeployment makes the pod one of Deployment name's, through its
// ReplicaSet.
func ofDeployment(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Labels["pod-template-hash"] = "7d9f8b6c5"
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name + "-7d9f8b6c5", Controller: ptr.To(true)}}
	}
}

// podAnnotated sets an annotation on the pod.
func podAnnotated(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[k] = v
	}
}

// serviceAccount is ServiceAccount ns/name naming clientID ("" for no
// annotation).
func serviceAccount(ns, name, clientID string) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if clientID != "" {
		sa.Annotations = map[string]string{wi.ClientIDAnnotation: clientID}
	}
	return sa
}

// webhookConfig is podid's mutating configuration as wiwebhook.Manifest
// renders it: called by url, or through Service kube-system/podid-wi-webhook
// when url is "". It was registered at created.
func webhookConfig(url string, created time.Time) *admissionregistrationv1.MutatingWebhookConfiguration {
	c := wiwebhook.Manifest(wiwebhook.ManifestOptions{URL: url, ServiceNamespace: "kube-system", ServiceName: "podid-wi-webhook"}).Mutating
	c.CreationTimestamp = metav1.NewTime(created)
	return c
}

// backed gives f's webhook Service ready endpoints and a Deployment with
// ready of desired replicas; exists false leaves the Service out.
func backed(f *Facts, exists bool, endpoints int, desired, ready int32) *Facts {
	b := WebhookBackend{}
	if exists {
		b = WebhookBackend{Exists: true, ReadyEndpoints: endpoints, Workloads: []Workload{{Object: "Deployment kube-system/podid-wi-webhook", Desired: desired, Ready: ready}}}
	}
	f.WI.Backends = map[string]WebhookBackend{"kube-system/podid-wi-webhook": b}
	return f
}
