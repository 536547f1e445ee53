package doctor

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/wi"
)

const labelPatch = `'{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'`

func TestWIPodLabel(t *testing.T) {
	runCases(t, "wi-pod-label", map[string]checkCase{
		"a labelled pod whose ServiceAccount names a client ID passes": {
			facts: facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "p")),
			want:  []want{{status: Pass, message: "1 pod whose ServiceAccount names a client ID carries the label"}},
		},
		"a Deployment's pods labelled True are fixed once, on the Deployment's template": {
			facts: facts(serviceAccount("apps", "app", wiClientID),
				wiPod("apps", "web-1", useLabel("True"), ofDeployment("web")), wiPod("apps", "web-2", useLabel("True"), ofDeployment("web"))),
			want: []want{{status: Fail, object: "Deployment apps/web", message: `lack the label azure.workload.identity/use: "true"`,
				fix: "kubectl -n apps patch deployment web -p " + labelPatch}},
		},
		"a bare pod with the webhook's annotations is recreated with the label": {
			facts: facts(serviceAccount("apps", "app", ""), wiPod("apps", "p", useLabel(""), podAnnotated(wi.SkipContainersAnnotation, "sidecar"))),
			want: []want{{status: Fail, object: "Pod apps/p", message: "the webhook injects no token",
				fix: "kubectl -n apps get pod p -o yaml | kubectl label --local -f - azure.workload.identity/use=true --overwrite -o yaml | kubectl replace --force -f -"}},
		},
		"an unlabelled pod whose ServiceAccount names a client ID only warns: it may need no token": {
			facts: facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "web-1", useLabel(""), ofDeployment("web"))),
			want: []want{{status: Warn, object: "Deployment apps/web", message: "meant to use workload identity",
				fix: "kubectl -n apps patch deployment web -p " + labelPatch}},
		},
		"the label false turns injection off on purpose": {
			facts: facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "p", useLabel("false"))),
		},
		"a finished pod is not reported": {
			facts: facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "p", useLabel("True"), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })),
		},
	})
}

func TestWIServiceAccount(t *testing.T) {
	runCases(t, "wi-service-account", map[string]checkCase{
		"a labelled pod whose ServiceAccount names a client ID passes": {
			facts: facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "p")),
			want:  []want{{status: Pass, message: "1 labelled pod's ServiceAccount names a client ID"}},
		},
		"a ServiceAccount without the annotation is annotated and the Deployment restarted": {
			facts: facts(serviceAccount("apps", "app", ""), wiPod("apps", "web-1", ofDeployment("web"), func(p *corev1.Pod) { p.Spec.Containers[0].Env = nil })),
			want: []want{{status: Fail, object: "Deployment apps/web", message: "ServiceAccount apps/app has no azure.workload.identity/client-id annotation",
				fix: "kubectl -n apps annotate serviceaccount app azure.workload.identity/client-id=<client ID> --overwrite && kubectl -n apps rollout restart deployment/web"}},
		},
		"a client ID the container sets by hand is the one suggested": {
			facts: facts(serviceAccount("apps", "app", ""), wiPod("apps", "p")),
			want: []want{{status: Fail, object: "Pod apps/p", message: "has no azure.workload.identity/client-id annotation",
				fix: "kubectl -n apps annotate serviceaccount app azure.workload.identity/client-id=" + wiClientID + " --overwrite && kubectl -n apps get pod p -o yaml | kubectl replace --force -f -"}},
		},
		"a ServiceAccount that does not exist is created and annotated": {
			facts: facts(wiPod("apps", "web-1", ofDeployment("web"), uninjected)),
			want: []want{{status: Fail, object: "Deployment apps/web", message: "ServiceAccount apps/app, which the pods run as, does not exist",
				fix: "kubectl -n apps create serviceaccount app && kubectl -n apps annotate serviceaccount app azure.workload.identity/client-id=<client ID> --overwrite && kubectl -n apps rollout restart deployment/web"}},
		},
		"ServiceAccounts the doctor could not list are not reported missing": {
			facts: func() *Facts {
				f := facts(wiPod("apps", "p"))
				f.Problems = []string{"could not list ServiceAccounts: forbidden"}
				return f
			}(),
		},
	})
}

func TestWIInjection(t *testing.T) {
	created := testNow.Add(-time.Minute) // wiPod's creation
	runCases(t, "wi-injection", map[string]checkCase{
		"a pod with the webhook's token and client ID passes": {
			facts: facts(serviceAccount("apps", "app", wiClientID), webhookConfig("", created.Add(-time.Hour)), wiPod("apps", "p")),
			want:  []want{{status: Pass, message: "1 labelled pod has the webhook's token and client ID"}},
		},
		"pods created before the webhook was registered are restarted": {
			facts: facts(serviceAccount("apps", "app", wiClientID), webhookConfig("", created.Add(time.Second)),
				wiPod("apps", "web-1", ofDeployment("web"), uninjected)),
			want: []want{{status: Fail, object: "Deployment apps/web", message: "created before the webhook was registered (MutatingWebhookConfiguration podid-wi-webhook",
				fix: "kubectl -n apps rollout restart deployment/web"}},
		},
		"without any webhook the pods are created again once it runs": {
			facts: facts(serviceAccount("apps", "app", wiClientID), wiPod("apps", "p", uninjected)),
			want: []want{{status: Fail, object: "Pod apps/p", message: "none is registered now (see wi-webhook)",
				fix: "kubectl -n apps get pod p -o yaml | kubectl replace --force -f -"}},
		},
		"a pod created before its ServiceAccount named a client ID lacks only AZURE_CLIENT_ID": {
			facts: facts(serviceAccount("apps", "app", wiClientID), webhookConfig("", created.Add(-time.Hour)),
				wiPod("apps", "web-1", ofDeployment("web"), func(p *corev1.Pod) { p.Spec.Containers[0].Env = p.Spec.Containers[0].Env[1:] })),
			want: []want{{status: Fail, object: "Deployment apps/web", message: "created before their ServiceAccount named a client ID",
				fix: "kubectl -n apps rollout restart deployment/web"}},
		},
		"a container the pod skips needs nothing injected": {
			facts: facts(serviceAccount("apps", "app", wiClientID), webhookConfig("", created.Add(-time.Hour)),
				wiPod("apps", "p", podAnnotated(wi.SkipContainersAnnotation, "proxy"), func(p *corev1.Pod) {
					p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy"})
				})),
			want: []want{{status: Pass, message: "1 labelled pod has"}},
		},
	})
}
