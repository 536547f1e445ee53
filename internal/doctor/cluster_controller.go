package doctor

import (
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
)

// ControllerLease names the Lease podid's mic replicas compete for
// (controller.LeaderElectionID; not imported, to keep the doctor free of
// the controller's dependencies).
const ControllerLease = "podid-mic"

// checkController reports whether a controller runs: without mic no pod
// is ever assigned an identity. Under podid up mic is a process it
// supervises; elsewhere a Deployment with a ready replica and, with
// leader election, a Lease some replica holds.
func checkController(f *Facts) []Finding {
	if up := f.Supervised; up != nil && up.Controller != nil {
		return []Finding{supervisedController(up)}
	}
	if couldNotList(f, "Deployments") {
		return []Finding{{Status: Skip, Message: "Deployments could not be listed (see the gather check)."}}
	}
	var ctrls []Component
	for _, c := range f.Components {
		if c.Kind == Controller {
			ctrls = append(ctrls, c)
		}
	}
	if len(ctrls) == 0 {
		return []Finding{{Status: Fail,
			Message: "No pod identity controller (mic) is installed: no pod is assigned an identity, so node agents serve no token.",
			Fix:     "Deploy podid's controller (the podid image with the argument mic) as a Deployment."}}
	}
	var out []Finding
	if len(ctrls) > 1 {
		sortForRemoval(ctrls)
		evidence := make([]string, 0, len(ctrls))
		for _, c := range ctrls {
			evidence = append(evidence, describeComponent(c))
		}
		out = append(out, Finding{Status: Fail, Object: ctrls[0].Object,
			Message:  fmt.Sprintf("%d controllers are installed at once and each assigns identities on its own; keep one and remove %s.", len(ctrls), ctrls[0].Object),
			Evidence: evidence,
			Fix:      uninstallCommand(ctrls[0])})
	}
	for _, c := range ctrls {
		out = append(out, controllerReplicas(f, c)...)
	}
	return out
}

func supervisedController(up *Supervised) Finding {
	p := up.Controller
	obj := fmt.Sprintf("Process %s (PID %d)", p.Name, p.PID)
	if !p.Alive {
		return Finding{Status: Fail, Object: obj,
			Message:  fmt.Sprintf("The controller (mic), which podid up runs as PID %d, is not running: no new pod is assigned an identity.", p.PID),
			Evidence: []string{"log: " + p.Log},
			Fix:      fmt.Sprintf("podid down --state-dir %s && podid up --state-dir %[1]s", up.StateDir)}
	}
	return Finding{Status: Pass, Object: obj, Message: fmt.Sprintf("The controller (mic) runs under podid up as PID %d.", p.PID)}
}

// controllerReplicas checks one controller Deployment's replicas and, for
// podid's, its leader Lease.
func controllerReplicas(f *Facts, c Component) []Finding {
	ns, name := objectNamespace(c.Object), objectName(c.Object)
	logs := fmt.Sprintf("kubectl -n %s logs %s/%s", ns, strings.ToLower(objectKind(c.Object)), name)
	counts := fmt.Sprintf("%d of %d replicas ready", c.Ready, c.Desired)
	switch {
	case c.Desired == 0:
		return []Finding{{Status: Fail, Object: c.Object,
			Message:  "The controller is scaled to zero replicas: no pod is assigned an identity.",
			Evidence: []string{counts},
			Fix:      fmt.Sprintf("kubectl -n %s scale %s/%s --replicas=1", ns, strings.ToLower(objectKind(c.Object)), name)}}
	case c.Ready == 0:
		return []Finding{{Status: Fail, Object: c.Object,
			Message:  "The controller has no ready replica: no pod is assigned an identity until one is ready.",
			Evidence: []string{counts, "image " + c.Image},
			Fix:      logs}}
	}
	if c.Product != "podid" {
		return []Finding{{Status: Pass, Object: c.Object, Message: fmt.Sprintf("The controller has %s.", counts)}}
	}
	lease := leaseOf(f, ns)
	if lease == nil {
		// mic runs with --leader-elect=false, or has not elected yet.
		return []Finding{{Status: Pass, Object: c.Object, Message: fmt.Sprintf("The controller has %s (no %s Lease: leader election is off).", counts, ControllerLease)}}
	}
	holder, expiry := leaseHolder(lease)
	leaseObj := Object("Lease", lease.Namespace, lease.Name)
	switch {
	case holder == "":
		return []Finding{{Status: Fail, Object: leaseObj,
			Message:  "No controller replica holds the leader Lease, so none acts: pods wait for an identity.",
			Evidence: []string{counts},
			Fix:      logs}}
	case !expiry.IsZero() && f.Now.After(expiry):
		return []Finding{{Status: Fail, Object: leaseObj,
			Message:  fmt.Sprintf("The leader Lease held by %s expired %s ago and no replica took it over: pods wait for an identity.", holder, f.Now.Sub(expiry).Round(time.Second)),
			Evidence: []string{counts, "renewed " + expiry.Format(time.RFC3339) + " plus the lease duration"},
			Fix:      logs}}
	}
	return []Finding{{Status: Pass, Object: c.Object, Message: fmt.Sprintf("The controller has %s and %s leads.", counts, holder)}}
}

// leaseOf returns podid mic's Lease in namespace ns, or nil.
func leaseOf(f *Facts, ns string) *coordinationv1.Lease {
	for i := range f.Leases {
		if l := &f.Leases[i]; l.Name == ControllerLease && l.Namespace == ns {
			return l
		}
	}
	return nil
}

// leaseHolder is who holds l and when that hold lapses (zero if the
// Lease does not say).
func leaseHolder(l *coordinationv1.Lease) (string, time.Time) {
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return holder, time.Time{}
	}
	return holder, l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
}
