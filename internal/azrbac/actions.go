package azrbac

import (
	"fmt"
	"path"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
)

// ClusterActionPrefix starts every data action of a managed cluster.
const ClusterActionPrefix = "Microsoft.ContainerService/managedClusters"

// verbAction maps a Kubernetes verb to the last segment(s) of an AKS data
// action. Verbs outside the list map to "" (AKS then checks the bare
// resource path, which only a managedClusters/* role grants).
func verbAction(verb string) string {
	switch verb {
	case "get", "list", "watch":
		return "read"
	case "create", "update", "patch":
		return "write"
	case "delete", "deletecollection":
		return "delete"
	case "bind", "escalate", "use", "impersonate":
		return verb + "/action"
	default:
		return ""
	}
}

// DataAction is the AKS data action a SubjectAccessReview asks about, e.g.
// "Microsoft.ContainerService/managedClusters/apps/deployments/write". It
// fails for wildcard requests (verb, resource or group "*"), which AKS
// answers only with its operations list, and for a spec with neither
// resource nor non-resource attributes.
func DataAction(spec authzv1.SubjectAccessReviewSpec) (string, error) {
	if ra := spec.ResourceAttributes; ra != nil {
		if ra.Verb == "*" || ra.Resource == "*" || ra.Group == "*" {
			return "", fmt.Errorf("wildcard support for Resource/Verb/Group is not enabled for request Group: %s, Resource: %s, Verb: %s", ra.Group, ra.Resource, ra.Verb)
		}
		var action string
		if ra.Resource == "pods" && ra.Subresource == "exec" {
			action = "pods/exec/action"
		} else {
			action = path.Join(ra.Resource, verbAction(ra.Verb))
		}
		return path.Join(ClusterActionPrefix, ra.Group, action), nil
	}
	if nra := spec.NonResourceAttributes; nra != nil {
		return path.Join(ClusterActionPrefix, nra.Path, verbAction(nra.Verb)), nil
	}
	return "", fmt.Errorf("subject access review has neither resourceAttributes nor nonResourceAttributes")
}

// Scope is where a request's data action is checked: the cluster's
// resource ID, or <cluster ID>/namespaces/<namespace> for a request in a
// namespace.
func Scope(clusterID string, spec authzv1.SubjectAccessReviewSpec) string {
	clusterID = strings.TrimSuffix(clusterID, "/")
	if ra := spec.ResourceAttributes; ra != nil && ra.Namespace != "" {
		return clusterID + "/namespaces/" + ra.Namespace
	}
	return clusterID
}
