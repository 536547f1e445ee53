package doctor

import (
	"fmt"
	"strings"
)

// acrUnauthorized: an ACR answered 401. The kubelet's words tell a
// refused identity from none offered; the cloud tells whether the kubelet
// identity holds a role that allows pull, at the registry or above.
func acrUnauthorized(f *Facts, pp podPull, fd *Finding) {
	refused := pp.Cause == PullCredentialsRefused
	// None offered, and the kubelet logged why: its provider failed.
	if failure := credentialFailure(f, pp); !refused && failure != "" {
		providerFailed(f, pp, fd, failure)
		return
	}
	a := decideACRAccess(f, pp.Registry, pp.Repository, pp.pod.Spec.NodeName)
	fd.Fix = attachFix(f, pp.Registry, a)
	if refused {
		fd.Message = fmt.Sprintf("registry %s refused the kubelet identity's token with 401 Unauthorized: the identity has no role that allows pull on it (AcrPull, as az aks update --attach-acr assigns), or has one only in a registry in rbac-abac mode", pp.Registry)
	} else {
		fd.Message = fmt.Sprintf("the kubelet offered registry %s no credentials (only the anonymous token was asked for, and refused with 401): the node's credential provider (acr-credential-provider) is not set up for %s, or it failed, or the registry is not attached", pp.Registry, pp.Host)
	}
	if !a.known || !a.found {
		why := a.why
		if a.known {
			why = "the cloud shows no registry " + pp.Registry + " the doctor can read"
		}
		fd.Message += "; inferred from the kubelet's event alone"
		fd.Evidence = append(fd.Evidence, fmt.Sprintf("%s; this command confirms who may pull from %s: %s", why, pp.Registry, roleListCmd(pp.Registry)))
		return
	}
	fd.Evidence = append(fd.Evidence, describeAccess(a)...)
	if a.kubelet.ResourceID == "" {
		fd.Evidence = append(fd.Evidence, a.why)
		return
	}
	who := fmt.Sprintf("kubelet identity %s (object ID %s)", a.kubelet.Name(), a.kubelet.PrincipalID)
	switch {
	case a.abacIgnored != "":
		fd.Message = fmt.Sprintf("registry %s is in rbac-abac mode, which ignores %q: the %s holds it and nothing that mode honours (confirmed by the cloud)", pp.Registry, a.abacIgnored, who)
		fd.Fix = repositoryReaderFix(f, a)
	case !a.allowed:
		fd.Message = fmt.Sprintf("the %s has no role that allows pull on registry %s, at the registry or above: the registry is not attached to the cluster (confirmed by the cloud)", who, pp.Registry)
	case refused:
		fd.Message = fmt.Sprintf("the cloud says the %s may pull from %s (%q at %s), yet the registry refused it: the role was granted minutes ago and the pod waits in back-off, or the kubelet pulls as another identity", who, pp.Registry, a.grant.RoleName, a.grant.Scope)
		fd.Fix = restartPodCmd(pp.pod)
	default:
		fd.Message = fmt.Sprintf("the %s may pull from %s (%q at %s), but the kubelet offered no credentials: the node's credential provider is not configured for %s or failed; its error is in the kubelet's journal", who, pp.Registry, a.grant.RoleName, a.grant.Scope, pp.Host)
		fd.Fix = fmt.Sprintf("journalctl -u kubelet | grep 'Failed getting credential'   # on node %s", pp.pod.Spec.NodeName)
	}
}

// checkACRPullAccess: for each Azure Container Registry pods in scope
// pull from and each node they run on, whether the node's kubelet
// identity may pull and the registry's network rules let the node in,
// from the cloud alone: a pod that runs now fails at its next pull once
// its registry is detached.
func checkACRPullAccess(f *Facts) []Finding {
	var out []Finding
	for _, u := range acrUses(f) {
		obj := "Registry " + u.registry
		if f.Cloud == nil {
			out = append(out, Finding{Status: Skip, Object: obj,
				Message: fmt.Sprintf("skipped: no cloud access; this command lists who may pull from %s (the kubelet identity needs AcrPull at the registry or above)", u.registry),
				Fix:     roleListCmd(u.registry)})
			continue
		}
		for _, node := range u.nodes {
			out = append(out, registryAccess(f, u, node))
		}
	}
	return out
}

// registryAccess is the finding on one registry as one node's kubelet
// sees it.
func registryAccess(f *Facts, u acrUse, node string) Finding {
	obj := "Registry " + u.registry
	var pods []string
	for _, p := range u.pods {
		if p.Spec.NodeName == node {
			pods = append(pods, key(p.Namespace, p.Name))
		}
	}
	ev := []string{fmt.Sprintf("pods on node %s pulling from it: %s", node, strings.Join(pods, ", "))}
	a := decideACRAccess(f, u.registry, "", node)
	switch {
	case !a.known:
		return Finding{Status: Skip, Object: obj, Message: "the cloud could not say whether node " + node + "'s kubelet may pull from " + u.registry,
			Evidence: append(ev, a.why), Fix: roleListCmd(u.registry)}
	case !a.found:
		return Finding{Status: Warn, Object: obj, Message: fmt.Sprintf("no registry named %s is among those the doctor can read, so whether node %s's kubelet may pull from it is unknown", u.registry, node),
			Evidence: append(ev, "cloud: the registries are "+orNone(f.Cloud.Pulls.SeenRegistries)), Fix: "az acr list --query \"[].loginServer\" -o tsv"}
	case a.kubelet.ResourceID == "":
		return Finding{Status: Skip, Object: obj, Message: "the kubelet identity of node " + node + " could not be told", Evidence: append(ev, a.why), Fix: roleListCmd(u.registry)}
	}
	ev = append(ev, describeAccess(a)...)
	if !a.allowed {
		fd := Finding{Status: Fail, Object: obj, Evidence: ev,
			Message: fmt.Sprintf("kubelet identity %s of node %s has no role that allows pull on %s: the pods' next pulls get 401 Unauthorized", a.kubelet.Name(), node, u.registry),
			Fix:     attachFix(f, u.registry, a)}
		if a.abacIgnored != "" {
			fd.Message = fmt.Sprintf("%s is in rbac-abac mode, which ignores %q, the only pull role kubelet identity %s of node %s holds: the pods' next pulls get 401 Unauthorized", u.registry, a.abacIgnored, a.kubelet.Name(), node)
			fd.Fix = repositoryReaderFix(f, a)
		}
		return fd
	}
	if refusal := networkRefusal(a.registry, nodeInternalIP(f, node)); refusal != "" {
		return Finding{Status: Warn, Object: obj, Evidence: ev,
			Message: refusal + ": unless the node's outbound address is let in, pulls get 403 Forbidden",
			Fix:     networkRuleFix(f, a.registry.Name, orPlaceholder(nodeInternalIP(f, node), "<node's outbound IP>"))}
	}
	return Finding{Status: Pass, Object: obj, Message: fmt.Sprintf("kubelet identity %s of node %s may pull from %s (%q at %s)", a.kubelet.Name(), node, u.registry, a.grant.RoleName, a.grant.Scope)}
}
