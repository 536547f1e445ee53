package doctor

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

func TestOverlappingSelectors(t *testing.T) {
	runCases(t, "overlapping-selectors", map[string]checkCase{
		"bindings with their own selectors pass": {
			facts: facts(msi("ns", "a"), msi("ns", "b"), binding("ns", "ba", "a", "x"), binding("ns", "bb", "b", "y")),
			want:  []want{{status: Pass, message: "2 bindings' selectors each lead to one identity"}},
		},
		"two bindings sharing a selector for different identities warn once": {
			facts: facts(msi("ns", "a"), msi("ns", "b"), binding("ns", "ba", "a", "web"), binding("ns", "bb", "b", "web"), pod("ns", "p", "web")),
			want: []want{{status: Warn, object: "AzureIdentityBinding ns/ba", message: `Bindings ba, bb of namespace ns share selector "web" and name identities a, b, so pods labelled with it (1 now) get`,
				fix: "kubectl -n ns edit azureidentitybinding bb"}},
		},
		"a shared selector in two namespaces is no overlap": {
			facts: facts(msi("a", "id"), msi("b", "id2"), binding("a", "x", "id", "web"), binding("b", "y", "id2", "web")),
			want:  []want{{status: Pass, message: "2 bindings"}},
		},
	})
}

func TestBindingNamespace(t *testing.T) {
	clusterWide := func(f *Facts) *Facts { f.Settings.ClusterWideBindings = true; return f }
	runCases(t, "binding-namespace", map[string]checkCase{
		"without cluster-wide bindings there is nothing to examine": {
			facts: facts(msi("a", "id"), binding("a", "b", "id", "web"), pod("other", "p", "web")),
		},
		"a binding serving a pod of another namespace warns": {
			facts: clusterWide(facts(msi("a", "id"), binding("a", "b", "id", "web"), pod("other", "p", "web"))),
			want: []want{{status: Warn, object: "AzureIdentityBinding a/b", message: "gives identity id to 1 pod of other namespaces (other/p)",
				fix: "kubectl -n a annotate azureidentity id aadpodidentity.k8s.io/Behavior=namespaced"}},
		},
		"an identity annotated namespaced serves only its namespace": {
			facts: clusterWide(facts(msi("a", "id", annotated(podidv1.BehaviorAnnotation, podidv1.BehaviorNamespaced)), binding("a", "b", "id", "web"), pod("other", "p", "web"))),
			want:  []want{{status: Pass, message: "1 binding serves only pods of its own namespace"}},
		},
	})
}

func TestPodExempt(t *testing.T) {
	exception := &podidv1.AzurePodIdentityException{ObjectMeta: objMeta("ns", "ex"), Spec: podidv1.AzurePodIdentityExceptionSpec{PodLabels: map[string]string{"app": "agent"}}}
	yes := true
	runCases(t, "pod-exempt", map[string]checkCase{
		"a selected pod that is neither exempt nor on the host network passes": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "web"), pod("ns", "p", "web")),
			want:  []want{{status: Pass, message: "1 selected pod is neither exempt nor on the host network"}},
		},
		"a pod an exception covers names the exception": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "web"), exception, pod("ns", "p", "web", func(p *corev1.Pod) { p.Labels["app"] = "agent" })),
			want: []want{{status: Warn, object: "Pod ns/p", message: "AzurePodIdentityException ns/ex exempts it",
				fix: "kubectl -n ns edit azurepodidentityexception ex"}},
		},
		"a Deployment's pod on the host network is fixed in the Deployment": {
			facts: facts(msi("ns", "id"), binding("ns", "b", "id", "web"), pod("ns", "web-5d9c-x", "web", func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				p.Labels["pod-template-hash"] = "5d9c"
				p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-5d9c", Controller: &yes}}
			})),
			want: []want{{status: Warn, object: "Pod ns/web-5d9c-x", message: "uses the host network", fix: "kubectl -n ns edit deployment web"}},
		},
	})
}

func TestTokenModeAnnotation(t *testing.T) {
	runCases(t, "token-mode-annotation", map[string]checkCase{
		"valid annotations in any case pass": {
			facts: facts(msi("ns", "a", annotated(podidv1.TokenModeAnnotation, "Node")), msi("ns", "b", annotated(podidv1.TokenModeAnnotation, "federated"))),
			want:  []want{{status: Pass, message: "2 AzureIdentities' token-mode annotations are valid"}},
		},
		"a typo of node is set to node": {
			facts: facts(msi("ns", "id", annotated(podidv1.TokenModeAnnotation, "nod"))),
			want: []want{{status: Fail, object: "AzureIdentity ns/id", message: `(valid values: "federated", "node")`,
				fix: "kubectl -n ns annotate azureidentity id aadpodidentity.k8s.io/token-mode=node --overwrite"}},
		},
		"an unrelated value keeps the mode the identity gets today": {
			facts: facts(msi("ns", "id", annotated(podidv1.TokenModeAnnotation, "imds"))),
			want: []want{{status: Fail, object: "AzureIdentity ns/id", message: "gets tokens in federated mode",
				fix: "kubectl -n ns annotate azureidentity id aadpodidentity.k8s.io/token-mode=federated --overwrite"}},
		},
		"identities without the annotation are not examined": {
			facts: facts(msi("ns", "id")),
		},
	})
}
