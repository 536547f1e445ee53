package wiwebhook

import (
	"bytes"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/podid/podid/internal/wi"
)

// Names of the webhooks, as the API server quotes them in its messages
// ("admission webhook %q denied the request"). The mutating one keeps
// v1.6's name, so that messages and troubleshooting guides read the same.
const (
	MutateWebhookName = "mutation.azure-workload-identity.io"
	WarnWebhookName   = "warning.wi.podid.io"
	// DefaultConfigName names both webhook configurations.
	DefaultConfigName = "podid-wi-webhook"
	// mutateTimeout is the API server's default, which v1.6 relies on.
	mutateTimeout = 10
	// warnTimeout is short: every pod creation without the label waits
	// for the warning webhook, and a late answer is ignored.
	warnTimeout = 3
)

// ManifestOptions say how the API server reaches the webhook.
type ManifestOptions struct {
	// Name of both configurations; empty means DefaultConfigName.
	Name string
	// ServiceNamespace, ServiceName and ServicePort name the in-cluster
	// Service; used when URL is empty. Port 0 means 443.
	ServiceNamespace, ServiceName string
	ServicePort                   int32
	// URL is the https base URL of a webhook outside the cluster (podid up,
	// tests); the paths are appended.
	URL string
	// CABundle is the PEM the API server trusts; the webhook keeps it
	// current itself, so it may start empty.
	CABundle []byte
}

// Configurations are the two webhook configurations.
type Configurations struct {
	// Mutating injects into pods labelled wi.UseLabel: "true"; it fails
	// closed, so such a pod never starts without its token.
	Mutating *admissionregistrationv1.MutatingWebhookConfiguration
	// Validating only warns, about every other pod; it fails open.
	Validating *admissionregistrationv1.ValidatingWebhookConfiguration
}

// Manifest renders the webhook configurations. The mutating webhook has
// v1.6's settings: CREATE of v1 pods, objectSelector on the label,
// failurePolicy Fail, matchPolicy Equivalent, reinvocationPolicy IfNeeded,
// sideEffects None, admissionReviewVersions v1 and v1beta1, and the 10 s
// timeout the API server defaults to.
func Manifest(o ManifestOptions) Configurations {
	name := o.Name
	if name == "" {
		name = DefaultConfigName
	}
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
	}}
	meta := metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/name": "podid-wi-webhook"}}
	none := admissionregistrationv1.SideEffectClassNone
	return Configurations{
		Mutating: &admissionregistrationv1.MutatingWebhookConfiguration{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
			ObjectMeta: meta,
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name:                    MutateWebhookName,
				ClientConfig:            o.clientConfig(MutatePath),
				Rules:                   rules,
				FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
				MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
				ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{wi.UseLabel: "true"}},
				SideEffects:             &none,
				TimeoutSeconds:          ptr.To[int32](mutateTimeout),
				AdmissionReviewVersions: []string{"v1", "v1beta1"},
				ReinvocationPolicy:      ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy),
			}},
		},
		Validating: &admissionregistrationv1.ValidatingWebhookConfiguration{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
			ObjectMeta: *meta.DeepCopy(),
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name:          WarnWebhookName,
				ClientConfig:  o.clientConfig(WarnPath),
				Rules:         rules,
				FailurePolicy: ptr.To(admissionregistrationv1.Ignore),
				MatchPolicy:   ptr.To(admissionregistrationv1.Equivalent),
				// Every pod the mutating webhook does not see: no label, or
				// another value than "true".
				ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: wi.UseLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"true"},
				}}},
				SideEffects:             &none,
				TimeoutSeconds:          ptr.To[int32](warnTimeout),
				AdmissionReviewVersions: []string{"v1", "v1beta1"},
			}},
		},
	}
}

func (o ManifestOptions) clientConfig(path string) admissionregistrationv1.WebhookClientConfig {
	cc := admissionregistrationv1.WebhookClientConfig{CABundle: o.CABundle}
	if o.URL != "" {
		cc.URL = ptr.To(o.URL + path)
		return cc
	}
	port := o.ServicePort
	if port == 0 {
		port = 443
	}
	cc.Service = &admissionregistrationv1.ServiceReference{Namespace: o.ServiceNamespace, Name: o.ServiceName, Path: ptr.To(path), Port: ptr.To(port)}
	return cc
}

// YAML is both configurations as a two-document YAML stream.
func (c Configurations) YAML() ([]byte, error) {
	var b bytes.Buffer
	for i, obj := range []any{c.Mutating, c.Validating} {
		out, err := yaml.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("encode webhook configuration: %w", err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(out)
	}
	return b.Bytes(), nil
}
