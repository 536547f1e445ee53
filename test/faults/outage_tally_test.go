package faults

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// tally compares the assignments with what the pods call for: every live
// labelled pod of the node (not being deleted, not finished) is owed
// exactly one AzureAssignedIdentity in state Assigned, and nothing else may
// exist.
type tally struct {
	// Expected is how many pods are owed an assignment.
	Expected int
	// Found is how many assignments exist, whatever their pod or state.
	Found int
	// OK is how many owed pods have exactly one assignment, Assigned and
	// not being deleted.
	OK int
	// Missing is how many owed pods have none.
	Missing int
	// Duplicated is how many assignments beyond the first an owed pod has.
	Duplicated int
	// NotAssigned is how many owed pods' single assignment is not (yet)
	// Assigned, or is being deleted.
	NotAssigned int
	// Extra is how many assignments name a pod that is owed none.
	Extra int
	// Examples names a few pods or assignments that are not OK.
	Examples []string
}

// converged is the end state the issue asks for: none lost, none
// duplicated, none left over.
func (t tally) converged() bool {
	return t.OK == t.Expected && t.Found == t.Expected && t.Extra == 0 && t.Duplicated == 0
}

func (t tally) String() string {
	ex := "-"
	if len(t.Examples) > 0 {
		ex = strings.Join(t.Examples, ",")
	}
	return fmt.Sprintf("expected=%d found=%d ok=%d missing=%d duplicated=%d not-assigned=%d extra=%d examples=%s",
		t.Expected, t.Found, t.OK, t.Missing, t.Duplicated, t.NotAssigned, t.Extra, ex)
}

// tallyAssignments counts, over every namespace, the assignments of the
// labelled pods of node against those pods.
func tallyAssignments(pods []corev1.Pod, assigned []podidv1.AzureAssignedIdentity, node string) tally {
	var t tally
	note := func(s string) {
		if len(t.Examples) < 5 {
			t.Examples = append(t.Examples, s)
		}
	}
	owed := map[string]bool{}
	for _, p := range pods {
		if p.Spec.NodeName != node || p.Labels[podidv1.SelectorLabel] == "" || p.DeletionTimestamp != nil ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		owed[p.Namespace+"/"+p.Name] = true
	}
	t.Expected = len(owed)
	byPod := map[string][]*podidv1.AzureAssignedIdentity{}
	for i := range assigned {
		a := &assigned[i]
		t.Found++
		key := a.Spec.PodNamespace + "/" + a.Spec.Pod
		if !owed[key] {
			t.Extra++
			note("extra:" + a.Namespace + "/" + a.Name + "(created " + a.CreationTimestamp.UTC().Format("15:04:05") + ", " + a.Status.Status + ")")
			continue
		}
		byPod[key] = append(byPod[key], a)
	}
	for key := range owed {
		list := byPod[key]
		switch {
		case len(list) == 0:
			t.Missing++
			note("missing:" + key)
		case len(list) > 1:
			t.Duplicated += len(list) - 1
			note("duplicated:" + key)
		case list[0].Status.Status != podidv1.AssignedIDAssigned || list[0].DeletionTimestamp != nil:
			t.NotAssigned++
			note("not-assigned:" + key + "=" + list[0].Status.Status)
		default:
			t.OK++
		}
	}
	return t
}
