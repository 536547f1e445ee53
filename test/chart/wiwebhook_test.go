package chart

import (
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/dump"

	"github.com/podid/podid/internal/wiwebhook"
)

// wiWebhookName is the webhook's object names for release podid.
const wiWebhookName = releaseName + "-wi-webhook"

// find returns the rendered object of that kind and name, decoded into into.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string, into any) bool {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
				t.Fatalf("decode %s %s: %v", kind, name, err)
			}
			return true
		}
	}
	return false
}

// TestWebhookConfigurationsMatchCode: the chart's two webhook
// configurations are what wiwebhook.Manifest renders for the chart's
// Service, field for field, so the chart cannot drift from the code. Only
// the labels are the chart's own.
func TestWebhookConfigurationsMatchCode(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := objects(t, mustRender(t, vs, false).Manifest)
			want := wiwebhook.Manifest(wiwebhook.ManifestOptions{
				Name: wiWebhookName, ServiceNamespace: vs.namespace, ServiceName: wiWebhookName, ServicePort: 443,
			})
			if !find(t, objs, "Service", wiWebhookName, &struct{}{}) {
				t.Errorf("no Service %s rendered, which the configurations name", wiWebhookName)
			}

			got := &admissionregistrationv1.MutatingWebhookConfiguration{}
			if !find(t, objs, "MutatingWebhookConfiguration", wiWebhookName, got) {
				t.Fatalf("no MutatingWebhookConfiguration %s rendered", wiWebhookName)
			}
			want.Mutating.Labels = got.Labels
			if !apiequality.Semantic.DeepEqual(got, want.Mutating) {
				t.Errorf("chart's MutatingWebhookConfiguration differs from wiwebhook.Manifest:\n got: %s\nwant: %s", dump.Pretty(got), dump.Pretty(want.Mutating))
			}

			gotV := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			if !find(t, objs, "ValidatingWebhookConfiguration", wiWebhookName, gotV) {
				t.Fatalf("no ValidatingWebhookConfiguration %s rendered", wiWebhookName)
			}
			want.Validating.Labels = gotV.Labels
			if !apiequality.Semantic.DeepEqual(gotV, want.Validating) {
				t.Errorf("chart's ValidatingWebhookConfiguration differs from wiwebhook.Manifest:\n got: %s\nwant: %s", dump.Pretty(gotV), dump.Pretty(want.Validating))
			}
		})
	}
}

// TestWebhookFlagsNameItsObjects: the Deployment's flags name the Service,
// the configurations and the Secret the chart's RBAC grants, in the
// release namespace, so the certificate's names and the caBundle it keeps
// are the ones the API server uses.
func TestWebhookFlagsNameItsObjects(t *testing.T) {
	vs := valueSets[0]
	objs := objects(t, mustRender(t, vs, false).Manifest)
	d := &appsv1.Deployment{}
	if !find(t, objs, "Deployment", wiWebhookName, d) {
		t.Fatalf("no Deployment %s rendered", wiWebhookName)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != wiWebhookName {
		t.Errorf("serviceAccountName %q, want %q", pod.ServiceAccountName, wiWebhookName)
	}
	args := strings.Join(pod.Containers[0].Args, " ")
	for _, want := range []string{
		"wi-webhook ",
		"--namespace=$(POD_NAMESPACE)",
		"--service-name=" + wiWebhookName + " ",
		"--cert-secret=" + wiWebhookName + "-cert ",
		"--webhook-config=" + wiWebhookName + " ",
		"--tenant-id=$(AZURE_TENANT_ID)",
	} {
		if !strings.Contains(args+" ", want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
}

// TestWebhookDisabled: workloadIdentity.enabled false renders none of the
// webhook's objects.
func TestWebhookDisabled(t *testing.T) {
	r, err := render(t, "podid-system", "workloadIdentity:\n  enabled: false", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects(t, r.Manifest) {
		if strings.Contains(o.GetName(), "wi-webhook") || strings.HasSuffix(o.GetKind(), "WebhookConfiguration") {
			t.Errorf("%s %s rendered with workloadIdentity.enabled false", o.GetKind(), o.GetName())
		}
	}
	if strings.Contains(r.Notes, "azure.workload.identity") {
		t.Errorf("NOTES.txt tells how to use the webhook that is not installed:\n%s", r.Notes)
	}
}
