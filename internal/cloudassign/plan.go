package cloudassign

import (
	"sort"
	"strings"
)

// MaxChangesPerRequest is how many user-assigned identities ARM accepts
// added or removed in one VM or VMSS update.
const MaxChangesPerRequest = 150

// PlanInput is what the worker knows about one machine.
type PlanInput struct {
	// Current are the user-assigned identities on the machine now.
	Current []string
	// Wanted are the identities pods on the machine need.
	Wanted []string
	// Releasing are identities of assignments being deleted: the only ones
	// podid may remove, and only if no pod still wants them.
	Releasing []string
	// Immutable are never removed (the kubelet identity, configured ones).
	Immutable []string
	// Refused are identities the cloud refused recently; they are left out
	// until their back-off ends, so they cannot block the others.
	Refused []string
}

// Plan is the change to make, split into requests ARM accepts.
type Plan struct {
	Add, Remove []string
	// Requests hold at most MaxChangesPerRequest changes each.
	Requests []Change
}

// Change is one PATCH of a machine's identities.
type Change struct {
	Add, Remove []string
	// SystemAssigned is set when the machine has a system-assigned
	// identity, which the PATCH must declare to keep.
	SystemAssigned bool
	// UserAssignedAfter is how many user-assigned identities the machine
	// holds once the PATCH is applied.
	UserAssignedAfter int
}

// Identity types a PATCH declares (ARM's ResourceIdentityType values).
const (
	TypeNone          = "None"
	TypeSystem        = "SystemAssigned"
	TypeUser          = "UserAssigned"
	TypeSystemAndUser = "SystemAssigned, UserAssigned"
)

// IdentityType is the type a PATCH must declare so that ARM keeps what
// the machine has: declaring UserAssigned alone on a machine with a
// system-assigned identity removes that identity (aad-pod-identity shipped
// this bug and then fixed it), and UserAssigned with no user-assigned
// identity left is refused.
func (c Change) IdentityType() string {
	switch {
	case c.SystemAssigned && c.UserAssignedAfter > 0:
		return TypeSystemAndUser
	case c.SystemAssigned:
		return TypeSystem
	case c.UserAssignedAfter > 0:
		return TypeUser
	}
	return TypeNone
}

// Empty reports whether nothing needs to be written.
func (p Plan) Empty() bool { return len(p.Add) == 0 && len(p.Remove) == 0 }

// MakePlan computes the identities to add and remove. Resource IDs compare
// case-insensitively, as ARM does.
func MakePlan(in PlanInput) Plan {
	current, wanted := set(in.Current), set(in.Wanted)
	immutable, refused := set(in.Immutable), set(in.Refused)
	var p Plan
	for k, id := range wanted {
		if _, ok := current[k]; !ok {
			if _, no := refused[k]; !no {
				p.Add = append(p.Add, id)
			}
		}
	}
	for k, id := range set(in.Releasing) {
		_, on := current[k]
		_, needed := wanted[k]
		_, fixed := immutable[k]
		if on && !needed && !fixed {
			p.Remove = append(p.Remove, id)
		}
	}
	sort.Strings(p.Add)
	sort.Strings(p.Remove)
	p.Requests = chunk(p.Add, p.Remove)
	return p
}

// chunk packs adds first, then removes, into requests of at most
// MaxChangesPerRequest changes.
func chunk(add, remove []string) []Change {
	var out []Change
	cur := Change{}
	n := 0
	flush := func() {
		if n > 0 {
			out = append(out, cur)
			cur, n = Change{}, 0
		}
	}
	for _, id := range add {
		if n == MaxChangesPerRequest {
			flush()
		}
		cur.Add = append(cur.Add, id)
		n++
	}
	for _, id := range remove {
		if n == MaxChangesPerRequest {
			flush()
		}
		cur.Remove = append(cur.Remove, id)
		n++
	}
	flush()
	return out
}

// set keys IDs by lower case, keeping the first spelling seen.
func set(ids []string) map[string]string {
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		k := strings.ToLower(id)
		if _, ok := out[k]; !ok {
			out[k] = id
		}
	}
	return out
}
