package doctor

import (
	"context"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// acrUse is one Azure Container Registry that containers of pods in scope
// pull from, with the nodes those pods run on.
type acrUse struct {
	// registry is the registry's lower-case name.
	registry string
	// pods are the pods pulling from it; nodes their nodes, in order.
	pods  []*corev1.Pod
	nodes []string
}

// acrUses are the registries that the containers of pods in scope name,
// by name order: the registries whose access the cloud can confirm.
func acrUses(f *Facts) []acrUse {
	byName := map[string]*acrUse{}
	for i := range f.Pods {
		p := &f.Pods[i]
		if !f.PodInScope(p) || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		seen := map[string]bool{}
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			host, _, _ := splitImage(c.Image)
			m := acrHostRE.FindStringSubmatch(host)
			if m == nil || seen[strings.ToLower(m[1])] {
				continue
			}
			name := strings.ToLower(m[1])
			seen[name] = true
			u := byName[name]
			if u == nil {
				u = &acrUse{registry: name}
				byName[name] = u
			}
			u.pods = append(u.pods, p)
			if n := p.Spec.NodeName; n != "" && !slices.Contains(u.nodes, n) {
				u.nodes = append(u.nodes, n)
			}
		}
	}
	out := make([]acrUse, 0, len(byName))
	for _, k := range objSortedKeys(byName) {
		out = append(out, *byName[k])
	}
	return out
}

// gatherPulls asks the cloud about the registries pods in scope pull
// from (found by name among every registry the reader may list, with the
// role assignments at each or above it) and about the machines behind
// their nodes (by providerID, each scale set once). Failures are recorded
// per registry and node.
func gatherPulls(ctx context.Context, r CloudReader, f *Facts, cf *CloudFacts) {
	uses := acrUses(f)
	if len(uses) == 0 {
		return
	}
	pc := &PullCloud{Registries: map[string]RegistryFact{}, RegistryErrors: map[string]string{},
		Machines: map[string]MachineFact{}, MachineErrors: map[string]string{}}
	cf.Pulls = pc
	wanted := map[string]bool{}
	nodes := map[string]bool{}
	for _, u := range uses {
		wanted[u.registry] = true
		for _, n := range u.nodes {
			nodes[n] = true
		}
	}
	regs, err := r.Registries(ctx)
	for _, reg := range regs {
		pc.SeenRegistries = append(pc.SeenRegistries, reg.Name)
		k := strings.ToLower(reg.Name)
		if !wanted[k] {
			continue
		}
		if grants, gerr := r.RoleGrants(ctx, reg.ID); gerr != nil {
			reg.GrantsErr = gerr.Error()
		} else {
			reg.Grants = grants
		}
		pc.Registries[k] = reg
	}
	sort.Strings(pc.SeenRegistries)
	if err != nil {
		for k := range wanted {
			if _, found := pc.Registries[k]; !found {
				pc.RegistryErrors[k] = err.Error()
			}
		}
	}
	byProvider := map[string]MachineFact{}
	failed := map[string]string{}
	for _, n := range f.Nodes {
		pid := n.Spec.ProviderID
		if !nodes[n.Name] || pid == "" {
			continue
		}
		m, done := byProvider[machineKey(pid)]
		e, bad := failed[machineKey(pid)]
		if !done && !bad {
			if m, err = r.Machine(ctx, pid); err != nil {
				e, bad = err.Error(), true
				failed[machineKey(pid)] = e
			} else {
				byProvider[machineKey(pid)] = m
			}
		}
		if bad {
			pc.MachineErrors[n.Name] = e
			continue
		}
		pc.Machines[n.Name] = m
	}
}

// machineKey is the scale set (or VM) part of a providerID: every
// instance of a scale set shares its identities.
func machineKey(providerID string) string {
	l := strings.ToLower(providerID)
	if i := strings.Index(l, "/virtualmachines/"); i >= 0 && strings.Contains(l[:i], "/virtualmachinescalesets/") {
		return l[:i]
	}
	return l
}
