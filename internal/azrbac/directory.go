package azrbac

import (
	"context"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/authz"
)

// Directory answers the webhook's questions about Azure AD and Azure RBAC.
type Directory interface {
	// LookupPrincipal resolves a Kubernetes user name (a user principal
	// name, or an object ID) to an Azure AD object ID; ok is false for a
	// name the directory does not know.
	LookupPrincipal(ctx context.Context, name string) (objectID string, ok bool, err error)
	// Check decides q's data action against the current role assignments.
	// It must not cache: a grant or revoke applies to the next call.
	Check(ctx context.Context, q Question) (authz.Decision, error)
}

// CloudDirectory is the Directory of an embedded cloud running in the same
// process, as under `podid up`: it reads the live role assignments and
// group memberships under the cloud's lock, so there is no propagation
// delay and no credential to manage.
type CloudDirectory struct {
	Cloud *cloud.Cloud
}

var _ Directory = CloudDirectory{}

// LookupPrincipal implements Directory.
func (d CloudDirectory) LookupPrincipal(_ context.Context, name string) (string, bool, error) {
	oid, ok := d.Cloud.LookupPrincipal(name)
	return oid, ok, nil
}

// Check implements Directory.
func (d CloudDirectory) Check(_ context.Context, q Question) (authz.Decision, error) {
	out := d.Cloud.CheckAccess(cloud.Subject{ObjectID: q.Subject.ObjectID, Groups: q.Subject.Groups}, q.Scope, []string{q.Action}, true)
	return out[0], nil
}
