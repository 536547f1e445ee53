// Package agent assembles the node agent (nmi): informers of this node's
// pods and assignments (podindex), the token sources and their cache
// (tokens), the IMDS-compatible server (server) and the iptables rules
// (netrules). Options holds every setting with its flag; Run wires them
// and serves until the context ends, and leaves the rules in place (only
// Cleanup, the uninstall step, removes them).
//
// # One agent per node
//
// With --manage-iptables, Run first claims the node's metadata redirect
// (claimNode) and refuses to start, installing nothing, when another agent
// owns it: aad-pod-identity's NMI (nat chain aad-metadata), any other DNAT
// of the metadata address in nat PREROUTING, or another podid agent, found
// by the node lock (nodelock) it holds while it runs. The lock is waited
// for up to --lock-wait, so that a rolling update's new agent starts once
// the old one has exited. Each refusal names the other installation and
// how to remove it (refusal, a pure function of what was observed).
//
// # Token modes
//
// --token-mode sets the cluster default; an AzureIdentity overrides it with
// the annotation aadpodidentity.k8s.io/token-mode: node|federated.
//
//   - node (the aad-pod-identity behaviour): a user-assigned managed identity
//     (type 0) is asked of the node's IMDS by msi_res_id, so the controller
//     must first add it to the node's VM or VMSS (slow, needs Managed
//     Identity Operator and Virtual Machine Contributor); service principals
//     (types 1 and 2) use their own secret or certificate from the Secret
//     named in spec.clientPassword. Use it for existing setups and for
//     identities that cannot carry a federated credential.
//   - federated: the agent asks the TokenRequest API for its own
//     service-account token (audience api://AzureADTokenExchange) and
//     exchanges it at Azure AD for the identity's client ID. Nothing is
//     written to the VMSS and no secret is read, so a pod's first token
//     needs only its assignment; each identity needs one federated credential
//     naming the cluster's issuer and the agent's service account
//     (system:serviceaccount:<namespace>:<name>). Prefer it whenever the
//     cluster has a public OIDC issuer.
//
// Pods covered by an AzurePodIdentityException pass through to the node's
// IMDS in both modes.
package agent
