package azrbac

import (
	"errors"
	"fmt"
	"net"
	"regexp"

	"github.com/spf13/pflag"
)

// DefaultListenAddress is where the webhook listens unless told otherwise.
const DefaultListenAddress = "127.0.0.1:8443"

// clusterIDRE is the shape of a managed cluster's resource ID.
var clusterIDRE = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/managedClusters/[^/]+$`)

// Options configure the webhook.
type Options struct {
	// ListenAddress is HOST:PORT; port 0 picks a free one.
	ListenAddress string
	// ClusterID is the managed cluster's resource ID.
	ClusterID string
	// DenyNonAADUsers denies users Azure AD does not know instead of
	// leaving them to Kubernetes RBAC.
	DenyNonAADUsers bool
	// AllowDiscovery lets Azure AD users read discovery paths with no role.
	AllowDiscovery bool
}

// NewOptions returns the defaults: listen on DefaultListenAddress, leave
// non-Azure AD users to Kubernetes RBAC, allow discovery.
func NewOptions() *Options {
	return &Options{ListenAddress: DefaultListenAddress, AllowDiscovery: true}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress, "HOST:PORT to serve SubjectAccessReviews on over TLS; port 0 picks a free one.")
	fs.StringVar(&o.ClusterID, "cluster-id", o.ClusterID, "Resource ID of the managed cluster whose roles decide (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>).")
	fs.BoolVar(&o.DenyNonAADUsers, "deny-non-aad-users", o.DenyNonAADUsers, "Deny users Azure AD does not know (client certificates, service accounts) instead of leaving them to Kubernetes RBAC.")
	fs.BoolVar(&o.AllowDiscovery, "allow-discovery", o.AllowDiscovery, "Let Azure AD users GET /api*, /openapi*, /version* and /healthz* without a role, as AKS does.")
}

// Validate reports bad option values and what to pass instead.
func (o *Options) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(o.ListenAddress); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: want HOST:PORT", o.ListenAddress))
	}
	if !clusterIDRE.MatchString(o.ClusterID) {
		errs = append(errs, fmt.Errorf("cluster ID %q: want /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.ContainerService/managedClusters/<name>", o.ClusterID))
	}
	return errors.Join(errs...)
}

// Policy is the decision policy the options describe.
func (o *Options) Policy() Policy {
	return Policy{ClusterID: o.ClusterID, DenyNonAADUsers: o.DenyNonAADUsers, AllowDiscovery: o.AllowDiscovery}
}
