package doctor

import (
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestWIWebhook(t *testing.T) {
	const obj = "MutatingWebhookConfiguration podid-wi-webhook"
	otherSelector := webhookConfig("", testNow)
	otherSelector.Webhooks[0].ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"azure.workload.identity/use": "enabled"}}
	ignoring := webhookConfig("", testNow)
	ignoring.Webhooks[0].FailurePolicy = ptr.To(admissionregistrationv1.Ignore)
	runCases(t, "wi-webhook", map[string]checkCase{
		"labelled pods without any webhook fail with podid's manifest": {
			facts: facts(wiPod("apps", "p")),
			want: []want{{status: Fail, message: `No MutatingWebhookConfiguration selects pods labelled azure.workload.identity/use: "true"`,
				fix: "kubectl apply -f deploy/podid.yaml   # podid's manifest, the webhook included"}},
		},
		"a Helm install gets the webhook through its release": {
			facts: func() *Facts {
				f := facts(wiPod("apps", "p"))
				f.Components = []Component{{Kind: Controller, Product: "podid", Object: "Deployment kube-system/podid-mic", HelmRelease: "kube-system/podid"}}
				return f
			}(),
			want: []want{{status: Fail, message: "No MutatingWebhookConfiguration selects",
				fix: "helm upgrade -n kube-system podid <podid chart> --reuse-values --set workloadIdentity.enabled=true"}},
		},
		"a configuration whose selector wants another value selects nothing": {
			facts: facts(wiPod("apps", "p"), otherSelector),
			want: []want{{status: Fail, message: "No MutatingWebhookConfiguration selects",
				fix: "kubectl apply -f deploy/podid.yaml   # podid's manifest, the webhook included"}},
		},
		"a webhook called by URL, as under podid up, only has to be registered": {
			facts: facts(wiPod("apps", "p"), webhookConfig("https://127.0.0.1:9443", testNow)),
			want:  []want{{status: Pass, object: obj, message: "called at https://127.0.0.1:9443/mutate-v1-pod"}},
		},
		"a Service with ready endpoints passes": {
			facts: backed(facts(wiPod("apps", "p"), webhookConfig("", testNow)), true, 2, 2, 2),
			want:  []want{{status: Pass, object: obj, message: "served by Service kube-system/podid-wi-webhook"}},
		},
		"no ready endpoint behind a failing-closed webhook refuses labelled pods; its logs say why": {
			facts: backed(facts(wiPod("apps", "p"), webhookConfig("", testNow)), true, 0, 2, 0),
			want: []want{{status: Fail, object: obj, message: "the API server refuses to create labelled pods until one is ready",
				fix: "kubectl -n kube-system logs deployment/podid-wi-webhook"}},
		},
		"a webhook scaled to zero is scaled up": {
			facts: backed(facts(webhookConfig("", testNow)), true, 0, 0, 0),
			want: []want{{status: Fail, object: obj, message: "has no ready endpoint",
				fix: "kubectl -n kube-system scale deployment/podid-wi-webhook --replicas=2"}},
		},
		"a failing-open webhook without endpoints lets pods start without their token": {
			facts: backed(facts(wiPod("apps", "p"), ignoring), true, 0, 2, 0),
			want: []want{{status: Fail, object: obj, message: "labelled pods are created without their token",
				fix: "kubectl -n kube-system logs deployment/podid-wi-webhook"}},
		},
		"a Service that does not exist is reinstalled": {
			facts: backed(facts(wiPod("apps", "p"), webhookConfig("", testNow)), false, 0, 0, 0),
			want: []want{{status: Fail, object: obj, message: "calls Service kube-system/podid-wi-webhook, which does not exist",
				fix: "kubectl apply -f deploy/podid.yaml   # podid's manifest, the webhook included"}},
		},
		"a cluster without labelled pods or the webhook has nothing to check": {
			facts: facts(pod("apps", "p", "")),
		},
	})
}
