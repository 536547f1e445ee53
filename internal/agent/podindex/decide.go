package podindex

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
)

// TokenModeAnnotation on an AzureIdentity overrides the cluster's token
// mode for it: "node" or "federated".
const TokenModeAnnotation = v1.TokenModeAnnotation

// Index names.
const (
	byPodIP    = "podIP"
	byPodUID   = "podUID"
	byPod      = "pod"
	byIdentity = "identity"
)

// live reports whether a pod can be calling: Pending or Running.
func live(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodPending || p.Status.Phase == corev1.PodRunning
}

// holdsIP reports whether a pod may still be the one calling from its IP.
// A pod being deleted stays Running until the kubelet has torn it down, but
// once none of its containers runs nothing of it can call, and the network
// plugin may already have given its IP to a new pod: counting it would
// hand the new pod the old one's identity, or make every request from the
// IP ambiguous until the API server forgets the old pod.
func holdsIP(p *corev1.Pod) bool {
	if !live(p) {
		return false
	}
	return p.DeletionTimestamp == nil || anyContainerRunning(p)
}

// anyContainerRunning reports whether a container of any kind (init,
// regular, ephemeral) of the pod runs, by the kubelet's last report.
func anyContainerRunning(p *corev1.Pod) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for _, c := range list {
			if c.State.Running != nil {
				return true
			}
		}
	}
	return false
}

// podIPs indexes the pods that hold their IPs (holdsIP) by each of them.
func podIPs(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok || !holdsIP(p) {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(ip string) {
		if ip != "" && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	add(p.Status.PodIP)
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	return out, nil
}

// assignedPod indexes an AzureAssignedIdentity by its pod's namespace/name.
func assignedPod(obj any) ([]string, error) {
	a, ok := obj.(*v1.AzureAssignedIdentity)
	if !ok {
		return nil, nil
	}
	return []string{a.Spec.PodNamespace + "/" + a.Spec.Pod}, nil
}

// assignedIdentity indexes an AzureAssignedIdentity by the namespace/name
// of the AzureIdentity it names.
func assignedIdentity(obj any) ([]string, error) {
	a, ok := obj.(*v1.AzureAssignedIdentity)
	if !ok || a.Spec.AzureIdentityRef == nil {
		return nil, nil
	}
	return []string{a.Spec.AzureIdentityRef.Namespace + "/" + a.Spec.AzureIdentityRef.Name}, nil
}

// resolveCaller decides which pod the pods sharing one address make. Only
// pods that hold the address count (holdsIP): not finished pods, nor
// deleted ones whose containers have all stopped. None: unknown. One
// regular pod: it. Only hostNetwork pods: a hostNetwork caller, exempt only
// if every one of them is (the address cannot tell which of them is
// calling). Anything else, such as a pod that inherited the IP of one
// still shutting down: ambiguous, which the server answers with 503 and
// Retry-After, since the old pod will soon stop.
func resolveCaller(pods []*corev1.Pod, exempt func(*corev1.Pod) bool) (server.Caller, error) {
	var regular, host []*corev1.Pod
	for _, p := range pods {
		if !holdsIP(p) {
			continue
		}
		if p.Spec.HostNetwork {
			host = append(host, p)
		} else {
			regular = append(regular, p)
		}
	}
	switch {
	case len(regular) == 1 && len(host) == 0:
		return toCaller(regular[0], exempt(regular[0])), nil
	case len(regular) == 0 && len(host) > 0:
		all := true
		for _, p := range host {
			all = all && exempt(p)
		}
		c := toCaller(host[0], all)
		c.HostNetwork = true
		return c, nil
	case len(regular) == 0:
		return server.Caller{}, server.ErrUnknownCaller
	default:
		return server.Caller{}, server.ErrAmbiguousCaller
	}
}

func toCaller(p *corev1.Pod, exempt bool) server.Caller {
	return server.Caller{
		Pod:         server.PodRef{Namespace: p.Namespace, Name: p.Name},
		Created:     p.CreationTimestamp.Time,
		HostNetwork: p.Spec.HostNetwork,
		Exempt:      exempt,
	}
}

// exempted reports whether any exception covers the pod, by the rule the
// controller applies too (AzurePodIdentityException.Exempts).
func exempted(p *corev1.Pod, exceptions []*v1.AzurePodIdentityException) bool {
	for _, e := range exceptions {
		if e.Exempts(p.Namespace, p.Labels) {
			return true
		}
	}
	return false
}

// toAssigned reads what the agent needs from an assignment and the live
// AzureIdentity id it names: the identity's fields come from id, never from
// the assignment's copy; the state and resolved token mode from the
// assignment.
func toAssigned(a *v1.AzureAssignedIdentity, id *v1.AzureIdentity) server.Assigned {
	return server.Assigned{Name: a.Namespace + "/" + a.Name, State: a.Status.Status, Identity: toIdentity(a, id)}
}

// toIdentity is the tokens.Identity of id as assignment a uses it.
func toIdentity(a *v1.AzureAssignedIdentity, id *v1.AzureIdentity) tokens.Identity {
	out := tokens.Identity{
		Name:       id.Namespace + "/" + id.Name,
		Type:       id.Spec.Type,
		ClientID:   id.Spec.ClientID,
		ResourceID: id.Spec.ResourceID,
		TenantID:   id.Spec.TenantID,
		Mode:       tokens.Mode(assignedMode(a, id)),
	}
	if s := id.Spec.ClientPassword; s != nil {
		out.SecretNamespace, out.SecretName = s.Namespace, s.Name
		if out.SecretNamespace == "" {
			out.SecretNamespace = id.Namespace
		}
	}
	return out
}

// assignedMode is the token mode the controller resolved into the
// assignment. An assignment from an older controller has none; then it is
// the identity's own valid annotation, or "" when the router must apply the
// cluster default, through the same v1.ResolveTokenMode the controller
// uses (the agent's default lives in the router, tokens.RouterOptions).
func assignedMode(a *v1.AzureAssignedIdentity, id *v1.AzureIdentity) string {
	if m, ok := v1.ParseTokenMode(a.Spec.TokenMode); ok && m != "" {
		return m
	}
	m, _ := v1.ParseTokenMode(id.Annotations[v1.TokenModeAnnotation])
	return m
}

// podUID indexes pods by UID, for /host/token callers found by their cgroup.
func podUID(obj any) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok || p.UID == "" {
		return nil, nil
	}
	return []string{string(p.UID)}, nil
}
