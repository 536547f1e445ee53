package v1

import "fmt"

// FieldProblem is something wrong with one field that the API server could
// not refuse at apply time, because it depends on other fields.
type FieldProblem struct {
	// Field is the JSON path, e.g. spec.clientID.
	Field string
	// Message says what is wrong and how to fix it.
	Message string
}

func (p FieldProblem) String() string { return p.Field + ": " + p.Message }

// Problems lists what keeps an AzureIdentity from working, given its type
// and its token mode under the cluster default: only node mode puts a managed
// identity on VMs, so only node mode needs its resource ID. Format checks
// (GUIDs, resource IDs, the type's range) are done by the CRD.
func (id *AzureIdentity) Problems(clusterDefault string) []FieldProblem {
	s := id.Spec
	var out []FieldProblem
	need := func(field, value, why string) {
		if value == "" {
			out = append(out, FieldProblem{Field: field, Message: fmt.Sprintf("is empty: %s", why)})
		}
	}
	switch s.Type {
	case UserAssignedMSI:
		need("spec.clientID", s.ClientID, "pods bound to this identity cannot name it in token requests; set it to the identity's client ID (az identity show -g <group> -n <name> --query clientId)")
		if id.NeedsCloudAssignment(clusterDefault) {
			need("spec.resourceID", s.ResourceID, "in node mode the controller cannot put the identity on the node's VM or VMSS; set it to the identity's resource ID (az identity show -g <group> -n <name> --query id)")
		}
	case ServicePrincipal, ServicePrincipalCertificate:
		need("spec.clientID", s.ClientID, "set it to the application (client) ID of the service principal (az ad sp list --display-name <name> --query [].appId)")
		need("spec.tenantID", s.TenantID, "set it to the tenant of the service principal (az account show --query tenantId)")
		what := "client secret"
		if s.Type == ServicePrincipalCertificate {
			what = "certificate (keys certificate and password)"
		}
		if s.ClientPassword == nil || s.ClientPassword.Name == "" {
			out = append(out, FieldProblem{Field: "spec.clientPassword.name", Message: fmt.Sprintf("is empty: name the Secret that holds the service principal's %s", what)})
		}
		if s.ClientPassword != nil && s.ClientPassword.Name != "" && s.ClientPassword.Namespace == "" {
			out = append(out, FieldProblem{Field: "spec.clientPassword.namespace", Message: "is empty: set it to the namespace of the Secret " + s.ClientPassword.Name})
		}
	}
	return out
}
