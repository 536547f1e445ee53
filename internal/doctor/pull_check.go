package doctor

import (
	"fmt"
	"strings"

	"github.com/podid/podid/internal/wi"
)

// pullChecks are the checks of image pulls: why the kubelet could not
// pull, from its events, confirmed from the cloud where the registry is
// an Azure Container Registry; and, from the cloud alone, whether each
// node's kubelet identity may pull from the registries pods name.
func pullChecks() []Check {
	return []Check{
		CheckFunc{CheckName: "image-pull", Fn: checkImagePull},
		CheckFunc{CheckName: "acr-pull-access", Fn: checkACRPullAccess},
	}
}

// checkImagePull: a container waiting in ErrImagePull or ImagePullBackOff
// fails, with the cause the kubelet's words give (ClassifyPull) and, for
// an Azure Container Registry with cloud access, what the cloud confirms.
func checkImagePull(f *Facts) []Finding {
	pulls := failingPulls(f)
	var out []Finding
	for _, pp := range pulls {
		out = append(out, diagnosePull(f, pp))
	}
	if len(out) > 0 {
		return out
	}
	n := 0
	for i := range f.Pods {
		if p := &f.Pods[i]; f.PodInScope(p) && p.Spec.NodeName != "" {
			n++
		}
	}
	return objPass(n, objPlural(n, "scheduled pod waits on no image pull", "scheduled pods wait on no image pull"))
}

// diagnosePull is the finding on one failed pull.
func diagnosePull(f *Facts, pp podPull) Finding {
	times := ""
	if pp.count > 1 {
		times = fmt.Sprintf(" (%d times)", pp.count)
	}
	fd := Finding{Status: Fail, Object: Object("Pod", pp.pod.Namespace, pp.pod.Name),
		Evidence: []string{fmt.Sprintf("kubelet%s: %s", times, pp.event)}}
	switch pp.Cause {
	case PullNotFound:
		notFound(f, pp, &fd)
	case PullWrongPlatform:
		fd.Message = fmt.Sprintf("image %s has no variant for the node's platform (no match for platform in manifest); build it for the node's OS and architecture too", pp.Image)
		fd.Fix = fmt.Sprintf("docker buildx imagetools inspect %s", pp.Image)
	case PullDNS:
		dnsFailure(f, pp, &fd)
	case PullUnreachable:
		fd.Message = fmt.Sprintf("the node could not connect to %s (a timeout or a refused connection): a firewall or appliance drops the traffic, or a private endpoint's address is not routed from the node", pp.Host)
		fd.Fix = fmt.Sprintf("kubectl debug node/%s -it --image=busybox -- wget -S -O- https://%s/v2/", pp.pod.Spec.NodeName, pp.Host)
		if pp.ACR {
			fd.Fix = checkACRCmd(f, pp.Host)
		}
	case PullFirewall:
		firewall(f, pp, &fd)
	case PullNoCredentials, PullCredentialsRefused:
		if pp.ACR {
			acrUnauthorized(f, pp, &fd)
			break
		}
		externalAuth(pp, &fd)
	case PullExternalAuth:
		externalAuth(pp, &fd)
	default:
		fd.Message = fmt.Sprintf("the kubelet could not pull %s, for a reason the doctor does not recognise (see the evidence)", pp.Image)
		fd.Fix = fmt.Sprintf("kubectl -n %s describe pod %s", pp.pod.Namespace, pp.pod.Name)
	}
	return fd
}

// notFound: the registry has no such tag or repository; the 401 beside it
// is the anonymous fallback's.
func notFound(f *Facts, pp podPull, fd *Finding) {
	fd.Message = fmt.Sprintf("registry %s has no tag %s in repository %s, or no such repository (rpc error NotFound)", pp.Host, pp.Tag, pp.Repository)
	if pp.AnonymousFallback {
		fd.Message += `: the "401 Unauthorized" beside it is the kubelet's anonymous retry, is misleading, and says nothing about the kubelet identity's access`
	}
	fd.Fix = showTagsCmd(pp)
	if tags := knownTags(f, pp.Host, pp.Repository); len(tags) > 0 {
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("tags of %s/%s this cluster has pulled: %s", pp.Host, pp.Repository, strings.Join(tags, ", ")))
		fd.Fix = setImageCmd(pp, pp.Host+"/"+pp.Repository+":"+tags[0])
	} else {
		fd.Evidence = append(fd.Evidence, "the doctor cannot list a registry's tags; this command does: "+showTagsCmd(pp))
	}
}

// dnsFailure: the host does not resolve. For an ACR the cloud tells a
// misspelt or deleted registry from a private DNS zone the node cannot
// see.
func dnsFailure(f *Facts, pp podPull, fd *Finding) {
	fd.Message = fmt.Sprintf("the node cannot resolve %s (no such host): the name is misspelt, the registry is gone, or the node's DNS cannot see it", pp.Host)
	fd.Fix = fmt.Sprintf("kubectl debug node/%s -it --image=busybox -- nslookup %s", pp.pod.Spec.NodeName, pp.Host)
	if !pp.ACR {
		return
	}
	a := decideACRAccess(f, pp.Registry, pp.Repository, pp.pod.Spec.NodeName)
	switch {
	case a.known && !a.found:
		fd.Message = fmt.Sprintf("no registry named %s exists among those the doctor can read, so %s does not resolve: the image names a misspelt or deleted registry", pp.Registry, pp.Host)
		fd.Evidence = append(fd.Evidence, "cloud: the registries are "+orNone(f.Cloud.Pulls.SeenRegistries))
		fd.Fix = "az acr list --query \"[].loginServer\" -o tsv"
	case a.found:
		fd.Message = fmt.Sprintf("registry %s exists, yet the node cannot resolve %s: with a private endpoint, the node's virtual network needs a link to the privatelink.azurecr.io DNS zone", a.registry.Name, pp.Host)
		fd.Evidence = append(fd.Evidence, describeAccess(a)...)
	default:
		fd.Evidence = append(fd.Evidence, "inferred from the kubelet's event alone ("+a.why+"); this command shows whether the registry exists: az acr show -n "+pp.Registry+" --query loginServer")
	}
}

// firewall: ACR's 403 is its network rules refusing the node's address.
func firewall(f *Facts, pp podPull, fd *Finding) {
	ip := pp.ClientIP
	from := "the address in ACR's answer"
	if ip == "" {
		ip, from = nodeInternalIP(f, pp.pod.Spec.NodeName), "the node's InternalIP; on AKS the cluster's outbound IP is what the registry sees"
	}
	fd.Message = fmt.Sprintf("registry %s answered 403 Forbidden: its firewall (network rules or disabled public access) does not let the node in", pp.Registry)
	fd.Fix = networkRuleFix(f, pp.Registry, orPlaceholder(ip, "<outbound IP>"))
	fd.Evidence = append(fd.Evidence, fmt.Sprintf("client address %s: %s", orPlaceholder(ip, "unknown"), from))
	a := decideACRAccess(f, pp.Registry, pp.Repository, pp.pod.Spec.NodeName)
	if !a.found {
		fd.Evidence = append(fd.Evidence, "inferred from the kubelet's event alone ("+orPlaceholder(a.why, "the doctor cannot read the registry")+"); this command shows the rules: "+networkShowCmd(pp.Registry))
		return
	}
	fd.Evidence = append(fd.Evidence, describeAccess(a)...)
	refusal := networkRefusal(a.registry, ip)
	switch {
	case strings.EqualFold(a.registry.PublicNetworkAccess, "Disabled"):
		fd.Message, fd.Fix = refusal+" (confirmed by the cloud)", publicAccessFix(f, a.registry.Name)
	case refusal != "":
		fd.Message = refusal + " (confirmed by the cloud): ACR refuses the kubelet's token requests with 403"
	default:
		fd.Message = fmt.Sprintf("registry %s answered 403 Forbidden, but its network rules now let %s in: they changed since, or a proxy between the node and the registry refuses it", a.registry.Name, ip)
		fd.Fix = restartPodCmd(pp.pod)
	}
}

// externalAuth: a registry other than ACR wants credentials the pod does
// not give.
func externalAuth(pp podPull, fd *Finding) {
	secrets := make([]string, 0, len(pp.pod.Spec.ImagePullSecrets))
	for _, s := range pp.pod.Spec.ImagePullSecrets {
		secrets = append(secrets, s.Name)
	}
	if len(secrets) == 0 {
		fd.Message = fmt.Sprintf("registry %s refused to let the kubelet pull %s without credentials, and the pod has no imagePullSecrets: the repository is private (a registry answers the same for one that does not exist)", pp.Host, pp.Repository)
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("pod %s/%s and its ServiceAccount %s give no imagePullSecrets", pp.pod.Namespace, pp.pod.Name, wi.ServiceAccountOf(&pp.pod.Spec)))
		fd.Fix = pullSecretFix(pp)
		return
	}
	fd.Message = fmt.Sprintf("registry %s refused the credentials of the pod's imagePullSecrets (%s) for %s: wrong user, password or server in the Secret, or no access to the repository", pp.Host, strings.Join(secrets, ", "), pp.Repository)
	fd.Fix = fmt.Sprintf("kubectl -n %s create secret docker-registry %s --docker-server=%s --docker-username=<user> --docker-password=<token> --dry-run=client -o yaml | kubectl apply -f - && %s",
		pp.pod.Namespace, secrets[0], pp.Host, restartPodCmd(pp.pod))
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
