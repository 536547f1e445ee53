package assign

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

// Pod is what the decision needs to know about a pod.
type Pod struct {
	Namespace, Name string
	UID             string
	NodeName        string
	Labels          map[string]string
	HostNetwork     bool
	Phase           corev1.PodPhase
	Deleting        bool
	// Created is when the pod was created, for latency metrics.
	Created time.Time
}

// Input is the cluster state the decision is made from.
type Input struct {
	Pods       []Pod
	Identities []podidv1.AzureIdentity
	Bindings   []podidv1.AzureIdentityBinding
	Exceptions []podidv1.AzurePodIdentityException
	// ClusterWide restores aad-pod-identity's default, where a binding
	// serves pods of every namespace.
	ClusterWide bool
}

// Assignment is one AzureAssignedIdentity that should exist.
type Assignment struct {
	// Namespace and Name of the AzureAssignedIdentity object.
	Namespace, Name string
	Pod             Pod
	Identity        *podidv1.AzureIdentity
	Binding         *podidv1.AzureIdentityBinding
}

// Key identifies an assignment.
func (a Assignment) Key() string { return a.Namespace + "/" + a.Name }

// Severity says whether a user must act on a finding.
type Severity string

const (
	// Normal findings explain a decision that is as intended.
	Normal Severity = "Normal"
	// Warning findings need a user to act.
	Warning Severity = "Warning"
)

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	Kind, Namespace, Name string
}

// Finding explains a decision, for an event on Object.
type Finding struct {
	Object   ObjectRef
	Severity Severity
	Reason   string
	Message  string
}

// Result is the decision.
type Result struct {
	Desired  []Assignment
	Findings []Finding
}
