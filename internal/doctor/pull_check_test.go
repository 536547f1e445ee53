package doctor

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud/authz"
)

// The world the pull checks' tests pull in: AKS's node resource group and
// scale set with the kubelet identity, and registry podidacr.
const (
	pullSub        = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7"
	pullNodeGroup  = pullSub + "/resourceGroups/MC_rg-aks_aks-poc_westus2"
	pullScaleSet   = pullNodeGroup + "/providers/Microsoft.Compute/virtualMachineScaleSets/aks-system-vmss"
	pullRegistryID = pullNodeGroup + "/providers/Microsoft.ContainerRegistry/registries/podidacr"
	kubeletOID     = "dd2baaa7-0a4b-4c1e-9f3d-6a7b8c9d0e1f"
	kubeletID      = pullNodeGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-poc-agentpool"
)

// pullPod is a pod on node-0 whose container app runs image and waits in
// reason (ErrImagePull, ImagePullBackOff), or runs when reason is "".
func pullPod(name, image, reason string, mods ...func(*corev1.Pod)) *corev1.Pod {
	return pod("default", name, "", append([]func(*corev1.Pod){func(p *corev1.Pod) {
		p.Spec.Containers = []corev1.Container{{Name: "app", Image: image}}
		cs := corev1.ContainerStatus{Name: "app", Image: image}
		if reason != "" {
			p.Status.Phase = corev1.PodPending
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: `Back-off pulling image "` + image + `"`}
		} else {
			cs.State.Running = &corev1.ContainerStateRunning{}
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	}}, mods...)...)
}

// kubeletEvent is the kubelet's Warning event on pod with message.
func kubeletEvent(pod, reason, message string) *corev1.Event {
	return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: pod + ".1"}, Type: corev1.EventTypeWarning, Reason: reason, Message: message, Count: 3,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod}, LastTimestamp: metav1.NewTime(testNow)}
}

// pullNode is node-0: an instance of the scale set at 10.224.0.4 whose
// kubelet has pulled podidacr.azurecr.io/busybox:latest.
func pullNode() corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-0"},
		Spec: corev1.NodeSpec{ProviderID: "azure://" + pullScaleSet + "/virtualMachines/0"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.224.0.4"}},
			Images: []corev1.ContainerImage{{Names: []string{"podidacr.azurecr.io/busybox@sha256:ab12", "podidacr.azurecr.io/busybox:latest"}}}}}
}

// roleGrant is an assignment of built-in role to principal at scope.
func roleGrant(role, principal, scope string) RoleGrant {
	d, _ := authz.LookupRole(authz.Builtins(), role)
	return RoleGrant{PrincipalID: principal, Scope: scope, RoleName: d.RoleName, RoleDefinitionID: d.ID, Permissions: d.Permissions}
}

// pullCloud is the cloud's answer: registry podidacr with grants, and the
// scale set carrying the kubelet identity and identities more.
func pullCloud(reg func(*RegistryFact), more ...MachineIdentity) *CloudFacts {
	r := RegistryFact{Name: "podidacr", ID: pullRegistryID, LoginServer: "podidacr.azurecr.io", PublicNetworkAccess: "Enabled", DefaultAction: "Allow"}
	if reg != nil {
		reg(&r)
	}
	ids := append([]MachineIdentity{{ResourceID: kubeletID, ClientID: "7e1c0d2a-5b4f-4e3a-8d9c-1a2b3c4d5e6f", PrincipalID: kubeletOID}}, more...)
	return &CloudFacts{Pulls: &PullCloud{Registries: map[string]RegistryFact{"podidacr": r}, RegistryErrors: map[string]string{},
		SeenRegistries: []string{"podidacr"}, Machines: map[string]MachineFact{"node-0": {ID: pullScaleSet, Identities: ids}}, MachineErrors: map[string]string{}}}
}

func withGrants(gs ...RoleGrant) func(*RegistryFact) { return func(r *RegistryFact) { r.Grants = gs } }

func TestImagePull(t *testing.T) {
	const ref = "podidacr.azurecr.io/busybox:latest"
	refused := failedToPull(ref, "["+unpack(ref, "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized")+", "+
		unpack(ref, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized")+"]")
	anonymous := failedToPull(ref, unpack(ref, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"))
	const wrong = "podidacr.azurecr.io/busybox:nope"
	notFound := failedToPull(wrong, "[rpc error: code = NotFound desc = "+unpack(wrong, wrong+": not found")+", "+
		unpack(wrong, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized")+"]")
	forbidden := failedToPull(ref, unpack(ref, "failed to authorize: failed to fetch anonymous token: unexpected status: 403 Forbidden"))
	podIdentity := msi("default", "app-id", func(id *podidv1.AzureIdentity) {
		id.Spec.ResourceID = pullNodeGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
	})
	cases := map[string]struct {
		image, message string
		// objs are more objects; cloud is the cloud's answer (nil: no
		// cloud access); podidUp says the cluster is a podid up run.
		objs    []any
		cloud   *CloudFacts
		podidUp bool
		// message, evidence and fix are what the one finding must hold.
		wantMessage, wantEvidence, wantFix string
	}{
		"detached under podid up: the cloud confirms no pull role, the fix attaches the kubelet identity by object ID": {
			image: ref, message: refused, cloud: pullCloud(withGrants(roleGrant("Reader", "someone-else", pullSub))), podidUp: true,
			wantMessage:  "kubelet identity aks-poc-agentpool (object ID " + kubeletOID + ") has no role that allows pull on registry podidacr",
			wantEvidence: "none lets aks-poc-agentpool pull",
			wantFix:      "podid cloud acr attach --state-dir /run/podid --registry podidacr --principal " + kubeletOID},
		"detached without cloud access: inferred from the event, az aks update names the cluster from the node resource group": {
			image: ref, message: refused,
			wantMessage:  "refused the kubelet identity's token with 401 Unauthorized",
			wantEvidence: "no cloud access; this command confirms who may pull from podidacr: az role assignment list --scope",
			wantFix:      "az aks update -n aks-poc -g rg-aks --attach-acr podidacr"},
		"a pod identity mic put on the scale set is not taken for the kubelet's": {
			image: ref, message: refused, objs: []any{podIdentity},
			cloud:       pullCloud(nil, MachineIdentity{ResourceID: podIdentity.Spec.ResourceID, PrincipalID: "pod-identity-oid"}),
			wantMessage: "kubelet identity aks-poc-agentpool (object ID " + kubeletOID + ") has no role",
			wantFix:     "az aks update -n aks-poc -g rg-aks --attach-acr podidacr"},
		"AcrPull on the resource group above the registry counts: the 401 is from before the grant": {
			image: ref, message: refused, cloud: pullCloud(withGrants(roleGrant("AcrPull", kubeletOID, pullNodeGroup))),
			wantMessage: `may pull from podidacr ("AcrPull" at ` + pullNodeGroup + `), yet the registry refused it`,
			wantFix:     "kubectl -n default get pod p -o yaml | kubectl replace --force -f -"},
		"an rbac-abac registry ignores the AcrPull the kubelet identity holds": {
			image: ref, message: refused,
			cloud: pullCloud(func(r *RegistryFact) {
				r.ABAC = true
				r.Grants = []RoleGrant{roleGrant("AcrPull", kubeletOID, pullRegistryID)}
			}),
			wantMessage: `rbac-abac mode, which ignores "AcrPull"`,
			wantFix:     `az role assignment create --assignee-object-id ` + kubeletOID + ` --assignee-principal-type ServicePrincipal --role "Container Registry Repository Reader" --scope ` + pullRegistryID},
		"no credentials offered while the identity may pull: the node's credential provider": {
			image: ref, message: anonymous, cloud: pullCloud(withGrants(roleGrant("AcrPull", kubeletOID, pullRegistryID))),
			wantMessage: "but the kubelet offered no credentials: the node's credential provider is not configured",
			wantFix:     "journalctl -u kubelet | grep 'Failed getting credential'"},
		"a wrong tag: NotFound, the 401 beside it called misleading, the fix sets the tag the node has": {
			image: wrong, message: notFound,
			wantMessage:  `Registry podidacr.azurecr.io has no tag nope in repository busybox, or no such repository (rpc error NotFound): the "401 Unauthorized" beside it is the kubelet's anonymous retry, is misleading`,
			wantEvidence: "tags of podidacr.azurecr.io/busybox this cluster has pulled: latest",
			wantFix:      "kubectl -n default set image pod/p app=podidacr.azurecr.io/busybox:latest"},
		"a wrong repository no node has seen: the fix lists its tags": {
			image: "podidacr.azurecr.io/web:1.0", message: failedToPull("podidacr.azurecr.io/web:1.0", "rpc error: code = NotFound desc = "+unpack("podidacr.azurecr.io/web:1.0", "podidacr.azurecr.io/web:1.0: not found")),
			wantMessage: "no tag 1.0 in repository web",
			wantFix:     "az acr repository show-tags -n podidacr --repository web -o table"},
		"the firewall: the cloud shows Deny without a rule for the node": {
			image: ref, message: forbidden, cloud: pullCloud(func(r *RegistryFact) { r.DefaultAction, r.IPRules = "Deny", []string{"203.0.113.0/24"} }),
			wantMessage:  "Registry podidacr denies by default and its IP rules (203.0.113.0/24) do not include 10.224.0.4 (confirmed by the cloud)",
			wantEvidence: "client address 10.224.0.4: the node's InternalIP",
			wantFix:      "az acr network-rule add -n podidacr --ip-address 10.224.0.4"},
		"the firewall: public network access disabled": {
			image: ref, message: forbidden, cloud: pullCloud(func(r *RegistryFact) { r.PublicNetworkAccess = "Disabled" }),
			wantMessage: "public network access disabled",
			wantFix:     "az acr update -n podidacr --public-network-enabled true"},
		"the firewall without cloud access": {
			image: ref, message: forbidden,
			wantMessage:  "answered 403 Forbidden: its firewall",
			wantEvidence: "az acr show -n podidacr --query",
			wantFix:      "az acr network-rule add -n podidacr --ip-address 10.224.0.4"},
		"a registry name that resolves nowhere and that the cloud does not know": {
			image: "podidarc.azurecr.io/busybox:latest", cloud: pullCloud(nil),
			message:      failedToPull("podidarc.azurecr.io/busybox:latest", unpack("podidarc.azurecr.io/busybox:latest", `failed to do request: Head "https://podidarc.azurecr.io/v2/busybox/manifests/latest": dial tcp: lookup podidarc.azurecr.io on 10.0.0.10:53: no such host`)),
			wantMessage:  "No registry named podidarc exists among those the doctor can read",
			wantEvidence: "cloud: the registries are podidacr",
			wantFix:      `az acr list --query "[].loginServer" -o tsv`},
		"a timeout to the registry": {
			image: ref, message: failedToPull(ref, unpack(ref, `failed to do request: Head "https://podidacr.azurecr.io/v2/busybox/manifests/latest": dial tcp 10.1.2.3:443: i/o timeout`)),
			wantMessage: "could not connect to podidacr.azurecr.io",
			wantFix:     "az aks check-acr -n aks-poc -g rg-aks --acr podidacr.azurecr.io"},
		"a private Docker Hub image without imagePullSecrets (seed 001 sample 4)": {
			image:       "akhan2017/nginx",
			message:     failedToPull("akhan2017/nginx", unpack("docker.io/akhan2017/nginx:latest", "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")),
			wantMessage: "Registry docker.io refused to let the kubelet pull akhan2017/nginx without credentials, and the pod has no imagePullSecrets",
			wantFix:     `kubectl -n default create secret docker-registry regcred-docker-io --docker-server=https://index.docker.io/v1/ --docker-username=<user> --docker-password=<token> && kubectl -n default patch serviceaccount default -p '{"imagePullSecrets":[{"name":"regcred-docker-io"}]}' && kubectl -n default get pod p -o yaml | kubectl replace --force -f -`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := facts(append([]any{pullPod("p", tc.image, "ErrImagePull"), kubeletEvent("p", "Failed", tc.message), kubeletEvent("p", "Failed", "Error: ErrImagePull")}, tc.objs...)...)
			f.Nodes = []corev1.Node{pullNode()}
			f.Cloud = tc.cloud
			if tc.podidUp {
				f.Supervised = &Supervised{StateDir: "/run/podid"}
			}
			got := Run(f, []Check{CheckFunc{CheckName: "image-pull", Fn: checkImagePull}}).Findings
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1: %+v", len(got), got)
			}
			fd := got[0]
			if fd.Status != Fail || fd.Object != "Pod default/p" || !strings.Contains(fd.Message, tc.wantMessage) || !strings.Contains(fd.Fix, tc.wantFix) {
				t.Errorf("got %s %s: %s\nfix: %s\nwant fail on Pod default/p saying %q with fix %q", fd.Status, fd.Object, fd.Message, fd.Fix, tc.wantMessage, tc.wantFix)
			}
			if ev := strings.Join(fd.Evidence, "\n"); !strings.Contains(ev, "kubelet (3 times): "+tc.message) || !strings.Contains(ev, tc.wantEvidence) {
				t.Errorf("evidence lacks the kubelet's event or %q:\n%s", tc.wantEvidence, ev)
			}
		})
	}
}

// Only containers waiting on a pull now count: a running pod's old Failed
// event, and the kubelet's "Error: ErrImagePull" lines, are not findings.
func TestImagePullPassesRunningPods(t *testing.T) {
	const ref = "podidacr.azurecr.io/busybox:latest"
	f := facts(pullPod("ran", ref, ""), kubeletEvent("ran", "Failed", failedToPull(ref, unpack(ref, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"))),
		pullPod("backoff", ref, "ImagePullBackOff"), kubeletEvent("backoff", "Failed", "Error: ImagePullBackOff"))
	got := checkImagePull(f)
	if len(got) != 1 || got[0].Status != Pass || !strings.Contains(got[0].Message, "2 scheduled pods wait on no image pull") {
		t.Errorf("got %+v; want one pass over 2 pods", got)
	}
}

func TestImagePullACRAccess(t *testing.T) {
	cases := map[string]struct {
		cloud            *CloudFacts
		want             Status
		message, wantFix string
	}{
		"no cloud access: skipped with the az command that would answer": {
			want: Skip, message: "skipped: no cloud access", wantFix: "az role assignment list --scope \"$(az acr show -n podidacr --query id -o tsv)\" --include-inherited -o table"},
		"the kubelet identity holds AcrPull on the registry": {
			cloud: pullCloud(withGrants(roleGrant("AcrPull", kubeletOID, pullRegistryID))),
			want:  Pass, message: `kubelet identity aks-poc-agentpool of node node-0 may pull from podidacr ("AcrPull" at ` + pullRegistryID},
		"Reader on the subscription lets it pull in rbac mode": {
			cloud: pullCloud(withGrants(roleGrant("Reader", kubeletOID, pullSub))), want: Pass, message: `"Reader" at ` + pullSub},
		"detached: a running pod's next pull will fail": {
			cloud: pullCloud(withGrants(roleGrant("AcrPull", "another-principal", pullRegistryID))),
			want:  Fail, message: "has no role that allows pull on podidacr: the pods' next pulls get 401", wantFix: "az aks update -n aks-poc -g rg-aks --attach-acr podidacr"},
		"allowed, but the firewall denies the node's address": {
			cloud: pullCloud(func(r *RegistryFact) {
				r.Grants, r.DefaultAction = []RoleGrant{roleGrant("AcrPush", kubeletOID, pullRegistryID)}, "Deny"
			}),
			want: Warn, message: "denies every address by default", wantFix: "az acr network-rule add -n podidacr"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := facts(pullPod("p", "podidacr.azurecr.io/busybox:latest", ""), pullPod("q", "podid.local/busybox:latest", ""))
			f.Nodes = []corev1.Node{pullNode()}
			f.Cloud = tc.cloud
			got := checkACRPullAccess(f)
			if len(got) != 1 || got[0].Status != tc.want || got[0].Object != "Registry podidacr" || !strings.Contains(got[0].Message, tc.message) || !strings.Contains(got[0].Fix, tc.wantFix) {
				t.Errorf("got %+v\nwant one %s on Registry podidacr saying %q with fix %q", got, tc.want, tc.message, tc.wantFix)
			}
		})
	}
}

// The kubelet records the Failed event before it updates the pod's
// status: a container still "ContainerCreating" with that event is
// diagnosed, and a running pod of the same repository names the tag that
// exists.
func TestImagePullBeforeTheStatusSaysSo(t *testing.T) {
	const wrong = "podidacr.azurecr.io/busybox:nope"
	creating := pullPod("new", wrong, "ErrImagePull", func(p *corev1.Pod) {
		p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	})
	ran := pullPod("ran", "podidacr.azurecr.io/busybox:1.37", "")
	ran.Namespace = "other"
	f := facts(creating, ran, kubeletEvent("new", "Failed", failedToPull(wrong, "rpc error: code = NotFound desc = "+unpack(wrong, wrong+": not found"))))
	f.Scope = Scope{Pod: "default/new"}
	got := checkImagePull(f)
	if len(got) != 1 || got[0].Status != Fail || got[0].Fix != "kubectl -n default set image pod/new app=podidacr.azurecr.io/busybox:1.37" {
		t.Errorf("got %+v; want one failure whose fix sets tag 1.37, which pod other/ran runs", got)
	}
}
