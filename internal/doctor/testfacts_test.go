package doctor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	podidv1 "github.com/podid/podid/api/v1"
)

// Builders of the objects the object checks' tests put into Facts.

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	testClientID   = "7c2a4f7e-3b1d-4c55-9a63-2f0e8d1b6a90"
	testTenantID   = "0f6b0f4e-8d1c-4a52-b3a9-6c4e1f2d7a38"
	testResourceID = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
)

// facts builds Facts from objects of any of the kinds the checks read.
func facts(objs ...any) *Facts {
	f := &Facts{Now: testNow, Secrets: map[string]SecretFact{}, Settings: Settings{TokenMode: podidv1.TokenModeFederated}}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Pod:
			f.Pods = append(f.Pods, *o)
		case *podidv1.AzureIdentity:
			f.Identities = append(f.Identities, *o)
		case *podidv1.AzureIdentityBinding:
			f.Bindings = append(f.Bindings, *o)
		case *podidv1.AzureAssignedIdentity:
			f.Assignments = append(f.Assignments, *o)
		case *podidv1.AzurePodIdentityException:
			f.Exceptions = append(f.Exceptions, *o)
		case *corev1.Event:
			f.Events = append(f.Events, *o)
		case *corev1.ServiceAccount:
			f.WI.ServiceAccounts = append(f.WI.ServiceAccounts, *o)
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			f.WI.Webhooks = append(f.WI.Webhooks, *o)
		default:
			panic("facts: unexpected object")
		}
	}
	return f
}

// pod is a running pod of ns on node-0 labelled selector ("" for none),
// created a minute before testNow.
func pod(ns, name, selector string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(testNow.Add(-time.Minute))},
		Spec:       corev1.PodSpec{NodeName: "node-0"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if selector != "" {
		p.Labels = map[string]string{podidv1.SelectorLabel: selector}
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

// msi is a well-formed user-assigned identity.
func msi(ns, name string, mods ...func(*podidv1.AzureIdentity)) *podidv1.AzureIdentity {
	id := &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       podidv1.AzureIdentitySpec{Type: podidv1.UserAssignedMSI, ClientID: testClientID, ResourceID: testResourceID},
	}
	for _, m := range mods {
		m(id)
	}
	return id
}

// sp is a service principal of type t whose Secret is ns/secret.
func sp(ns, name string, t podidv1.IdentityType, secret string) *podidv1.AzureIdentity {
	return &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: podidv1.AzureIdentitySpec{Type: t, ClientID: testClientID, TenantID: testTenantID,
			ClientPassword: &corev1.SecretReference{Namespace: ns, Name: secret}},
	}
}

// binding binds identity to pods labelled selector.
func binding(ns, name, identity, selector string) *podidv1.AzureIdentityBinding {
	return &podidv1.AzureIdentityBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: identity, Selector: selector},
	}
}

// annotated sets an annotation on an identity.
func annotated(k, v string) func(*podidv1.AzureIdentity) {
	return func(id *podidv1.AzureIdentity) {
		if id.Annotations == nil {
			id.Annotations = map[string]string{}
		}
		id.Annotations[k] = v
	}
}

// warning is a Warning event on kind ns/name at t.
func warning(kind, ns, name, reason, msg string, t time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: name + "." + reason},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: msg,
		LastTimestamp: metav1.NewTime(t),
	}
}

// runCheck runs the named object or workload-identity check over f.
func runCheck(name string, f *Facts) []Finding {
	for _, c := range append(objectChecks(), wiChecks()...) {
		if c.Name() == name {
			return c.Run(f)
		}
	}
	panic("no check " + name)
}

// want is what a test expects of one finding.
type want struct {
	status Status
	object string
	// message is a part of the message.
	message string
	// fix is the exact fix.
	fix string
}

// checkCase is one case of a check's table test.
type checkCase struct {
	facts *Facts
	want  []want
}

// runCases runs check over each case's facts and compares the findings
// with want, in order.
func runCases(t *testing.T, check string, cases map[string]checkCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assertFindings(t, runCheck(check, tc.facts), tc.want)
		})
	}
}

func assertFindings(t *testing.T, got []Finding, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(wants), describe(got))
	}
	for i, w := range wants {
		g := got[i]
		if g.Status != w.status || g.Object != w.object || !strings.Contains(g.Message, w.message) || g.Fix != w.fix {
			t.Errorf("finding %d:\n got %s %q %q\n     fix %q\nwant %s %q containing %q\n     fix %q", i, g.Status, g.Object, g.Message, g.Fix, w.status, w.object, w.message, w.fix)
		}
	}
}

func describe(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s: %s\n    evidence %q\n    fix %s\n", f.Status, f.Object, f.Message, f.Evidence, f.Fix)
	}
	return b.String()
}

func objMeta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
