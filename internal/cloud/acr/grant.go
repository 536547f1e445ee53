package acr

// Mode is a registry's role-assignment mode (ARM roleAssignmentMode).
type Mode int

const (
	// ModeRBAC is LegacyRegistryPermissions (az: rbac): registry-wide
	// roles (AcrPull, AcrPush, Reader, Contributor, Owner) decide through
	// control-plane actions.
	ModeRBAC Mode = iota
	// ModeABAC is AbacRepositoryPermissions (az: rbac-abac): only the
	// repository roles' data actions count, and their conditions may name
	// repositories.
	ModeABAC
)

// RepositoryNameAttribute is the request attribute ABAC conditions read.
const RepositoryNameAttribute = "Microsoft.ContainerRegistry/registries/repositories:name"

// Permission is one RBAC question Grant asks: an action (a data action in
// ABAC mode) with the request attributes conditions may read.
type Permission struct {
	// Repository is the repository the question is about; empty for the catalog.
	Repository string
	Action     string
	DataAction bool
	Attributes map[string]string
}

// Checker answers an RBAC question for one caller on one registry.
type Checker func(Permission) bool

// Control-plane actions the legacy registry roles carry.
const (
	LegacyPullAction   = "Microsoft.ContainerRegistry/registries/pull/read"
	LegacyPushAction   = "Microsoft.ContainerRegistry/registries/push/write"
	LegacyDeleteAction = "Microsoft.ContainerRegistry/registries/artifacts/delete"
)

// Data actions of the repository roles (ABAC mode).
const (
	ContentReadAction   = "Microsoft.ContainerRegistry/registries/repositories/content/read"
	ContentWriteAction  = "Microsoft.ContainerRegistry/registries/repositories/content/write"
	ContentDeleteAction = "Microsoft.ContainerRegistry/registries/repositories/content/delete"
	CatalogReadAction   = "Microsoft.ContainerRegistry/registries/catalog/read"
)

// PermissionFor is the RBAC question that action on the scope's resource
// needs in mode; ok is false for an action ACR does not know.
func PermissionFor(mode Mode, typ, name, action string) (Permission, bool) {
	if typ == TypeRegistry {
		if name != CatalogName || action != ActionAll {
			return Permission{}, false
		}
		if mode == ModeABAC {
			return Permission{Action: CatalogReadAction, DataAction: true}, true
		}
		return Permission{Action: LegacyPullAction}, true
	}
	if typ != TypeRepository {
		return Permission{}, false
	}
	legacy := map[string]string{ActionPull: LegacyPullAction, ActionPush: LegacyPushAction, ActionDelete: LegacyDeleteAction}
	data := map[string]string{ActionPull: ContentReadAction, ActionPush: ContentWriteAction, ActionDelete: ContentDeleteAction}
	if mode == ModeABAC {
		a, ok := data[action]
		return Permission{Repository: name, Action: a, DataAction: true, Attributes: map[string]string{RepositoryNameAttribute: name}}, ok
	}
	a, ok := legacy[action]
	return Permission{Repository: name, Action: a}, ok
}

// Grant returns the part of requested that can allows, as the token
// spec wants: the intersection, never an error. Entries left with no
// action are dropped; unknown types and actions are never granted.
func Grant(mode Mode, requested []Access, can Checker) []Access {
	var out []Access
	for _, r := range requested {
		g := Access{Type: r.Type, Name: r.Name}
		for _, act := range r.Actions {
			if p, ok := PermissionFor(mode, r.Type, r.Name, act); ok && can(p) {
				g.Actions = append(g.Actions, act)
			}
		}
		if len(g.Actions) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// AnonymousChecker is the Checker of a caller without credentials: pull
// of any repository when the registry allows anonymous pull, nothing else.
func AnonymousChecker(anonymousPull bool) Checker {
	return func(p Permission) bool {
		return anonymousPull && p.Repository != "" && (p.Action == LegacyPullAction || p.Action == ContentReadAction)
	}
}
