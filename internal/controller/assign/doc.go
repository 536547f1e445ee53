// Package assign decides which pods get which identities. Desired is a pure
// function from the cluster's pods, identities, bindings and exceptions to
// the AzureAssignedIdentity objects that should exist, plus findings that
// explain every pod, binding or identity that gets nothing and why. The
// reconcilers gather the input from informer caches and write the result;
// every rule lives here, where a table test can reach it. The status of an
// AzureAssignedIdentity, and when it passes to the cloud worker, come from
// package assignstatus. Each reconciler registers the cache indexes it
// lists by (indexes.go), so either runs without the other.
//
// Rules, and where they differ from aad-pod-identity:
//   - A binding's selector is compared for equality with the pod label
//     aadpodidbinding (it is not a label selector).
//   - A binding serves pods of its own namespace only. The old
//     cross-namespace behaviour is a cluster option (ClusterWide), and even
//     then an identity annotated aadpodidentity.k8s.io/Behavior: namespaced
//     serves its own namespace only.
//   - Pods on the host network get no assignment: the node agent cannot tell
//     their requests from the node's own. Pods matched by an
//     AzurePodIdentityException in their namespace get none either; their
//     requests go to the node's IMDS. The match is the node agent's too
//     (AzurePodIdentityException.Exempts): a listed value "" matches only a
//     pod that carries the label empty, not one without it.
//   - Each assignment carries the identity's resolved token mode in
//     spec.tokenMode (AzureIdentity.TokenMode), which the node agent obeys.
//   - Pods not yet on a node, finished, or being deleted get none.
//   - Each assignment records its pod's UID (podidv1.PodUIDAnnotation). A
//     pod deleted and recreated under its name, on another node or with
//     another UID, is another pod: its old assignment is deleted (in node
//     mode the cloud worker then releases the identity from the old
//     machine) and a new one is created once the old is gone, starting at
//     Created; it is never moved in place (madeForAnotherPod).
//   - Several bindings may give one pod several identities; the pod must
//     then name one in each token request, so overlapping selectors are
//     reported.
package assign
