package doctor

import (
	"fmt"
	"sort"
	"strings"
)

// checkDuplicateAgents fails when more than one node agent is installed:
// aad-pod-identity's nmi beside podid's, two podid DaemonSets, or one
// beside the agents podid up runs. Each redirects 169.254.169.254 on its
// nodes, so a pod's token request reaches whichever rule came first.
func checkDuplicateAgents(f *Facts) []Finding {
	if couldNotList(f, "DaemonSets") {
		return []Finding{{Status: Skip, Message: "DaemonSets could not be listed (see the gather check)."}}
	}
	var agents []Component
	for _, c := range f.Components {
		if c.Kind == NodeAgent {
			agents = append(agents, c)
		}
	}
	sortForRemoval(agents)
	installs := len(agents)
	if up := f.Supervised; up != nil && len(up.Agents) > 0 {
		installs++
	}
	if installs < 2 {
		return []Finding{{Status: Pass, Message: fmt.Sprintf("%d node agent %s found; no two own the 169.254.169.254 redirect.", installs, plural(installs, "installation", "installations"))}}
	}
	evidence := make([]string, 0, installs)
	for _, c := range agents {
		evidence = append(evidence, describeComponent(c))
	}
	if up := f.Supervised; up != nil && len(up.Agents) > 0 {
		evidence = append(evidence, fmt.Sprintf("%d node agent processes of the podid up run in %s", len(up.Agents), up.StateDir))
	}
	// The first to remove is the one sortForRemoval put first; with podid
	// up's agents every DaemonSet goes.
	remove := agents[0]
	return []Finding{{
		Status:   Fail,
		Object:   remove.Object,
		Message:  fmt.Sprintf("%d node agents are installed at once and each owns the 169.254.169.254 redirect, so a pod's token request reaches either; keep one and remove %s.", installs, remove.Object),
		Evidence: evidence,
		Fix:      uninstallCommand(remove),
	}}
}

// sortForRemoval orders components so the one to remove comes first:
// aad-pod-identity's before podid's, then fewer ready before more, then
// by name.
func sortForRemoval(cs []Component) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if (a.Product == "aad-pod-identity") != (b.Product == "aad-pod-identity") {
			return a.Product == "aad-pod-identity"
		}
		if a.Ready != b.Ready {
			return a.Ready < b.Ready
		}
		return a.Object < b.Object
	})
}

func describeComponent(c Component) string {
	s := fmt.Sprintf("%s (%s %s, image %s, %d/%d ready)", c.Object, c.Product, c.Kind, c.Image, c.Ready, c.Desired)
	if c.HelmRelease != "" {
		s += ", Helm release " + c.HelmRelease
	}
	return s
}

// uninstallCommand removes component c the way it was installed: its Helm
// release, or the object itself.
func uninstallCommand(c Component) string {
	if c.HelmRelease != "" {
		ns, rel, _ := strings.Cut(c.HelmRelease, "/")
		return fmt.Sprintf("helm uninstall -n %s %s", ns, rel)
	}
	return fmt.Sprintf("kubectl -n %s delete %s %s", objectNamespace(c.Object), strings.ToLower(objectKind(c.Object)), objectName(c.Object))
}
