package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IdentityType says what kind of Azure AD principal an AzureIdentity names.
// +kubebuilder:validation:Enum=0;1;2
type IdentityType int

const (
	// UserAssignedMSI is a user-assigned managed identity (type 0).
	UserAssignedMSI IdentityType = 0
	// ServicePrincipal is an application with a client secret (type 1).
	ServicePrincipal IdentityType = 1
	// ServicePrincipalCertificate is an application with a certificate (type 2).
	ServicePrincipalCertificate IdentityType = 2
)

// String names the type as users meet it in documentation.
func (t IdentityType) String() string {
	switch t {
	case UserAssignedMSI:
		return "UserAssignedMSI"
	case ServicePrincipal:
		return "ServicePrincipal"
	case ServicePrincipalCertificate:
		return "ServicePrincipalCertificate"
	default:
		return "Unknown"
	}
}

// BehaviorAnnotation set to BehaviorNamespaced on an AzureIdentity makes it
// serve only pods of its own namespace, whatever the cluster default.
const (
	BehaviorAnnotation = "aadpodidentity.k8s.io/Behavior"
	BehaviorNamespaced = "namespaced"
)

// AzureIdentitySpec describes an Azure AD identity that pods may use.
type AzureIdentitySpec struct {
	// Type is 0 for a user-assigned managed identity, 1 for a service
	// principal with a client secret, 2 for a service principal with a
	// certificate.
	// +optional
	Type IdentityType `json:"type"`

	// ResourceID is the ARM resource ID of the user-assigned managed identity
	// (type 0), /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="self.matches('(?i)^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\\\\.managedidentity/userassignedidentities/[^/]+$')",messageExpression="'\"' + self + '\" is not the ARM ID of a user-assigned managed identity; use /subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name> (az identity show -g <group> -n <name> --query id)'"
	ResourceID string `json:"resourceID,omitempty"`

	// ClientID is the client (application) ID of the identity, a GUID.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')",messageExpression="'\"' + self + '\" is not a client ID; use the identity\\'s client ID, a GUID such as 00000000-0000-0000-0000-000000000000 (az identity show -g <group> -n <name> --query clientId)'"
	ClientID string `json:"clientID,omitempty"`

	// ClientPassword names the Secret that holds the client secret (type 1)
	// or the certificate and its password (type 2).
	// +optional
	ClientPassword *corev1.SecretReference `json:"clientPassword,omitempty"`

	// TenantID is the Azure AD tenant of a service principal (types 1 and 2).
	// +optional
	TenantID string `json:"tenantID,omitempty"`

	// AuxiliaryTenantIDs lists further tenants to get tokens from (type 1).
	// +optional
	// +nullable
	AuxiliaryTenantIDs []string `json:"auxiliaryTenantIDs,omitempty"`

	// ADResourceID is the token audience of a custom cloud (service principals).
	// +optional
	ADResourceID string `json:"adResourceID,omitempty"`

	// ADEndpoint is the Azure AD endpoint of a custom cloud (service principals).
	// +optional
	ADEndpoint string `json:"adEndpoint,omitempty"`

	// Replicas is accepted for compatibility and not used.
	// +optional
	// +nullable
	Replicas *int32 `json:"replicas,omitempty"`
}

// AzureIdentityStatus reports what podid made of an AzureIdentity.
type AzureIdentityStatus struct {
	// AvailableReplicas is accepted for compatibility and not used.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`

	// Conditions explain whether the identity is usable and, if not, why.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// AzureIdentity is an Azure AD identity (managed identity or service
// principal) that pods may be bound to.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=azureidentities,scope=Namespaced
// +kubebuilder:printcolumn:name="Type",type=integer,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="ClientID",type=string,JSONPath=`.spec.clientID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AzureIdentity struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AzureIdentitySpec   `json:"spec,omitempty"`
	Status AzureIdentityStatus `json:"status,omitempty"`
}

// AzureIdentityList is a list of AzureIdentity.
// +kubebuilder:object:root=true
type AzureIdentityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AzureIdentity `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AzureIdentity{}, &AzureIdentityList{})
}
