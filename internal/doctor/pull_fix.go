package doctor

import (
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/cloudassign"
	"github.com/podid/podid/internal/wi"
)

// The commands the pull checks print. Under podid up (f.Supervised) the
// registry's roles are changed with podid cloud, elsewhere with az.

// attachFix gives the kubelet identity AcrPull on the registry, as az aks
// update --attach-acr does.
func attachFix(f *Facts, registry string, a acrAccess) string {
	if f.Supervised != nil {
		principal := a.kubelet.PrincipalID
		if principal == "" {
			principal = "<kubelet identity>"
		}
		return fmt.Sprintf("podid cloud acr attach --state-dir %s --registry %s --principal %s", f.Supervised.StateDir, registry, principal)
	}
	cluster, group := aksCluster(f)
	return fmt.Sprintf("az aks update -n %s -g %s --attach-acr %s", cluster, group, registry)
}

// networkRuleFix lets ip through the registry's firewall (az acr
// network-rule add).
func networkRuleFix(f *Facts, registry, ip string) string {
	if f.Supervised != nil {
		return fmt.Sprintf("podid cloud acr network-rule add --state-dir %s --registry %s --ip-address %s", f.Supervised.StateDir, registry, ip)
	}
	return fmt.Sprintf("az acr network-rule add -n %s --ip-address %s", registry, ip)
}

// publicAccessFix enables the registry's public endpoint (az acr update
// --public-network-enabled true).
func publicAccessFix(f *Facts, registry string) string {
	if f.Supervised != nil {
		return fmt.Sprintf("podid cloud acr update --state-dir %s --registry %s --public-network-enabled true", f.Supervised.StateDir, registry)
	}
	return fmt.Sprintf("az acr update -n %s --public-network-enabled true", registry)
}

// repositoryReaderFix grants the role an rbac-abac registry honours.
func repositoryReaderFix(f *Facts, a acrAccess) string {
	const role = "Container Registry Repository Reader"
	if f.Supervised != nil {
		return fmt.Sprintf("podid cloud role grant --state-dir %s --principal %s --role %q --scope registry/%s", f.Supervised.StateDir, a.kubelet.PrincipalID, role, a.registry.Name)
	}
	return fmt.Sprintf("az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal --role %q --scope %s", a.kubelet.PrincipalID, role, a.registry.ID)
}

// mcGroupRE is AKS's node resource group name: MC_<group>_<cluster>_<location>.
var mcGroupRE = regexp.MustCompile(`^(?i:MC)_(.+)_([^_]+)_([^_]+)$`)

// aksCluster names the AKS cluster and its resource group from a node's
// resource group, when it has AKS's default name; placeholders otherwise.
func aksCluster(f *Facts) (cluster, group string) {
	for _, n := range f.Nodes {
		t, err := cloudassign.ParseProviderID(n.Spec.ProviderID)
		if err != nil {
			continue
		}
		if m := mcGroupRE.FindStringSubmatch(t.ResourceGroup); m != nil {
			return m[2], m[1]
		}
	}
	return "<cluster>", "<resource group>"
}

// checkACRCmd walks the pull from a node, as the kubelet makes it.
func checkACRCmd(f *Facts, loginServer string) string {
	cluster, group := aksCluster(f)
	return fmt.Sprintf("az aks check-acr -n %s -g %s --acr %s", cluster, group, loginServer)
}

// roleListCmd lists who may do what on the registry: what the doctor reads
// to confirm a 401.
func roleListCmd(registry string) string {
	return fmt.Sprintf("az role assignment list --scope \"$(az acr show -n %s --query id -o tsv)\" --include-inherited -o table", registry)
}

// networkShowCmd shows the registry's network rules.
func networkShowCmd(registry string) string {
	return fmt.Sprintf("az acr show -n %s --query \"{publicNetworkAccess: publicNetworkAccess, networkRuleSet: networkRuleSet}\"", registry)
}

// showTagsCmd lists a repository's tags.
func showTagsCmd(pp podPull) string {
	if pp.ACR {
		return fmt.Sprintf("az acr repository show-tags -n %s --repository %s -o table", pp.Registry, pp.Repository)
	}
	return fmt.Sprintf("skopeo list-tags docker://%s/%s", pp.Host, pp.Repository)
}

// setImageCmd makes the pod's owner (or the bare pod: a container's
// image may change in place) run ref in the container.
func setImageCmd(pp podPull, ref string) string {
	p := pp.pod
	o := ownerOf(p)
	target := "pod/" + p.Name
	switch {
	case o.templated():
		target = o.resource + "/" + o.name
	case o.name != "":
		return editCmd(o.resource, p.Namespace, o.name)
	}
	return fmt.Sprintf("kubectl -n %s set image %s %s=%s", p.Namespace, target, pp.container, ref)
}

// pullSecretFix creates a docker-registry Secret for the host, adds it to
// the pod's ServiceAccount (which gives it to the pods created after) and
// creates the pods again.
func pullSecretFix(pp podPull) string {
	p := pp.pod
	server := pp.Host
	if server == "docker.io" {
		server = "https://index.docker.io/v1/"
	}
	secret := "regcred-" + strings.NewReplacer(".", "-", ":", "-").Replace(pp.Host)
	patch := fmt.Sprintf(`{"imagePullSecrets":[{"name":"%s"}]}`, secret)
	return fmt.Sprintf("kubectl -n %s create secret docker-registry %s --docker-server=%s --docker-username=<user> --docker-password=<token> && kubectl -n %s patch serviceaccount %s -p %s && %s",
		p.Namespace, secret, server, p.Namespace, wi.ServiceAccountOf(&p.Spec), shellQuote(patch), restartPodCmd(p))
}

// restartPodCmd creates p again from what owns it (or from itself).
func restartPodCmd(p *corev1.Pod) string {
	return restartCmd(workloadPods{owner: ownerOf(p), pods: []*corev1.Pod{p}})
}
