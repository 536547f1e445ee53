package doctor

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/cloud/authz"
)

// PullCloud is what the cloud says about the registries that pods in
// scope pull from and about the machines behind their nodes: enough to
// tell whether the kubelet identity may pull, and whether the registry's
// network lets the node in.
type PullCloud struct {
	// Registries are the Azure Container Registries found, by lower-case
	// name; a name the doctor looked for and did not find is absent.
	Registries map[string]RegistryFact
	// RegistryErrors say why a registry could not be looked up, by the
	// same key.
	RegistryErrors map[string]string
	// SeenRegistries names every registry the doctor could list, to
	// compare with a name that matches none.
	SeenRegistries []string
	// Machines are the scale sets (or VMs) behind the nodes, by node
	// name; MachineErrors say why one could not be read.
	Machines      map[string]MachineFact
	MachineErrors map[string]string
}

// RegistryFact is a registry as Resource Manager shows it, with the role
// assignments that apply to it.
type RegistryFact struct {
	Name, ID, LoginServer string
	// ABAC is roleAssignmentMode AbacRepositoryPermissions (az's
	// rbac-abac): AcrPull counts for nothing there.
	ABAC bool
	// PublicNetworkAccess (Enabled, Disabled), DefaultAction (Allow,
	// Deny) and IPRules are the network rules.
	PublicNetworkAccess, DefaultAction string
	IPRules                            []string
	AnonymousPull                      bool
	// Grants are the role assignments at the registry or above it, each
	// with its role's permissions; GrantsErr says why they could not be
	// listed.
	Grants    []RoleGrant
	GrantsErr string
}

// RoleGrant is one role assignment with what its role permits.
type RoleGrant struct {
	PrincipalID, Scope, RoleName string
	// RoleDefinitionID is the role's bare GUID.
	RoleDefinitionID string
	Condition        string
	Permissions      []authz.Permission
}

// MachineFact is the VM or scale set a node's providerID names, and the
// user-assigned identities on it: one of them is the kubelet's.
type MachineFact struct {
	ID         string
	Identities []MachineIdentity
}

// MachineIdentity is a user-assigned identity on a machine.
type MachineIdentity struct {
	ResourceID, ClientID, PrincipalID string
}

// Name is the identity's name, the last part of its resource ID.
func (m MachineIdentity) Name() string { return m.ResourceID[strings.LastIndex(m.ResourceID, "/")+1:] }

// podPull is one container of a pod in scope that waits on a pull, with
// what the kubelet said.
type podPull struct {
	pod       *corev1.Pod
	container string
	PullFailure
	// event is the kubelet's message the failure was read from.
	event string
	// count is how often the kubelet said it (the event's count).
	count int32
}

// failingPulls are the containers of pods in scope that wait on a pull
// the kubelet said failed: waiting in ErrImagePull or ImagePullBackOff,
// or (the pod's status not yet updated) still being created with the
// kubelet's Failed event for their image. Each carries the kubelet's
// newest message about it (a BackOff event or the waiting message when
// the events are gone), in pod order.
func failingPulls(f *Facts) []podPull {
	var out []podPull
	for i := range f.Pods {
		p := &f.Pods[i]
		if !f.PodInScope(p) || p.DeletionTimestamp != nil {
			continue
		}
		status := map[string]corev1.ContainerStatus{}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			status[cs.Name] = cs
		}
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			cs, known := status[c.Name]
			w := cs.State.Waiting
			pulling := w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff")
			creating := !known || (w != nil && (w.Reason == "ContainerCreating" || w.Reason == "PodInitializing")) ||
				(cs.State.Running == nil && cs.State.Terminated == nil && w == nil)
			if !pulling && !creating {
				continue
			}
			message := ""
			if pulling {
				message = w.Message
			}
			if pp, ok := pullOf(f, p, c.Name, c.Image, message); ok {
				out = append(out, pp)
			}
		}
	}
	return out
}

// pullOf reads the failure of container name pulling image from the
// pod's newest event about it that carries an error, else from the
// waiting message.
func pullOf(f *Facts, p *corev1.Pod, name, image, waiting string) (podPull, bool) {
	events := f.EventsFor("Pod", p.Namespace, p.Name)
	for j := len(events) - 1; j >= 0; j-- {
		e := events[j]
		if e.Reason != "Failed" && e.Reason != "BackOff" {
			continue
		}
		if pf, ok := ClassifyPull(e.Message); ok && pf.Image == image {
			return podPull{pod: p, container: name, PullFailure: pf, event: e.Message, count: e.Count}, true
		}
	}
	if pf, ok := ClassifyPull(waiting); ok {
		return podPull{pod: p, container: name, PullFailure: pf, event: waiting}, true
	}
	return podPull{}, false
}

// knownTags lists the tags of host/repo this cluster has pulled: those
// its running containers report, then those in the nodes' image caches
// (which the kubelet reports with a delay of up to a minute).
func knownTags(f *Facts, host, repo string) []string {
	prefixes := []string{host + "/" + repo + ":"}
	if host == "docker.io" {
		prefixes = append(prefixes, strings.TrimPrefix(repo, "library/")+":")
	}
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		for _, prefix := range prefixes {
			if tag, ok := strings.CutPrefix(name, prefix); ok && !seen[tag] && !strings.Contains(tag, "/") {
				seen[tag] = true
				out = append(out, tag)
			}
		}
	}
	for i := range f.Pods {
		for _, cs := range f.Pods[i].Status.ContainerStatuses {
			if cs.State.Running != nil {
				add(cs.Image)
			}
		}
	}
	for _, n := range f.Nodes {
		for _, im := range n.Status.Images {
			for _, name := range im.Names {
				add(name)
			}
		}
	}
	return out
}
