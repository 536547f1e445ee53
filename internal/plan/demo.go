package plan

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/kwok"
)

// Demo names follow seed 004.
const (
	DemoNamespace = "aad-pod-identity-poc"
	DemoIdentity  = "aad-user-identity"
	DemoBinding   = "aad-user-identity-binding"
	DemoSelector  = "bind-user-identity-keyvault"
	DemoApp       = "az-keyvault-reader-test"
	// DemoUnboundPod carries no aadpodidbinding label and gets no token.
	DemoUnboundPod = "no-identity"
)

// Demo is seed 004's application: an AzureIdentity for a user-assigned
// identity, its binding, one labelled pod per node and one unlabelled pod.
type Demo struct {
	Namespace                string
	IdentityName, IdentityID string
	ClientID, TenantID       string
	Binding, Selector        string
	Pods                     []DemoPod
	Vault, Secret            string
	VaultResource            string
}

// DemoPod is a pod created directly with spec.nodeName: there is no
// scheduler or controller manager to turn a Deployment into pods.
type DemoPod struct {
	Name, Node string
	Bound      bool
}

// VaultResource is the token resource of Key Vault.
const VaultResource = "https://vault.azure.net"

func makeDemo(st cloud.State, in DemoInput, nodes []Node) (*Demo, error) {
	var id *cloud.Identity
	var names []string
	for _, i := range st.Identities {
		names = append(names, i.Name)
		if strings.EqualFold(i.Name, in.Identity) {
			id = i
		}
	}
	if id == nil {
		sort.Strings(names)
		return nil, fmt.Errorf("--demo-identity %q is not a user-assigned identity of the world; it has %s", in.Identity, list(names))
	}
	if err := checkVault(st, in.Vault, in.Secret); err != nil {
		return nil, err
	}
	d := &Demo{
		Namespace: DemoNamespace, IdentityName: DemoIdentity, IdentityID: id.ID,
		ClientID: id.ClientID, TenantID: id.TenantID,
		Binding: DemoBinding, Selector: DemoSelector,
		Vault: in.Vault, Secret: in.Secret, VaultResource: VaultResource,
	}
	for i, n := range nodes {
		d.Pods = append(d.Pods, DemoPod{Name: fmt.Sprintf("%s-%d", DemoApp, i), Node: n.Name, Bound: true})
	}
	d.Pods = append(d.Pods, DemoPod{Name: DemoUnboundPod, Node: nodes[0].Name})
	return d, nil
}

func checkVault(st cloud.State, vault, secret string) error {
	var vaults []string
	for _, v := range st.Vaults {
		vaults = append(vaults, v.Name)
		if !strings.EqualFold(v.Name, vault) {
			continue
		}
		var secrets []string
		for s := range v.Secrets {
			if strings.EqualFold(s, secret) {
				return nil
			}
			secrets = append(secrets, s)
		}
		sort.Strings(secrets)
		return fmt.Errorf("--demo-secret %q is not in vault %s; it holds %s", secret, vault, list(secrets))
	}
	sort.Strings(vaults)
	return fmt.Errorf("--demo-vault %q is not in the world; it has %s", vault, list(vaults))
}

// Objects returns the demo's Kubernetes objects in the order to create them.
func (d *Demo) Objects() (*corev1.Namespace, *podidv1.AzureIdentity, *podidv1.AzureIdentityBinding, []*corev1.Pod) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: d.Namespace}}
	id := &podidv1.AzureIdentity{
		ObjectMeta: metav1.ObjectMeta{Name: d.IdentityName, Namespace: d.Namespace},
		Spec: podidv1.AzureIdentitySpec{
			Type: podidv1.UserAssignedMSI, ResourceID: d.IdentityID, ClientID: d.ClientID, TenantID: d.TenantID,
		},
	}
	b := &podidv1.AzureIdentityBinding{
		ObjectMeta: metav1.ObjectMeta{Name: d.Binding, Namespace: d.Namespace},
		Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: d.IdentityName, Selector: d.Selector},
	}
	var pods []*corev1.Pod
	for _, p := range d.Pods {
		labels := map[string]string{"app": DemoApp}
		if p.Bound {
			labels[podidv1.SelectorLabel] = d.Selector
		}
		pods = append(pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: d.Namespace, Labels: labels},
			Spec: corev1.PodSpec{
				NodeName:           p.Node,
				ServiceAccountName: "default",
				Containers:         []corev1.Container{{Name: "app", Image: "example.invalid/keyvault-reader:1"}},
				Tolerations: []corev1.Toleration{
					{Key: kwok.ManagedAnnotation, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
					{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				},
			},
		})
	}
	return ns, id, b, pods
}

// BoundPods returns the namespace/name of every labelled demo pod.
func (d *Demo) BoundPods() []string {
	var out []string
	for _, p := range d.Pods {
		if p.Bound {
			out = append(out, d.Namespace+"/"+p.Name)
		}
	}
	return out
}
