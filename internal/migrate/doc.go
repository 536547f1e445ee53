// Package migrate moves pod-identity users to workload identity without
// changing their applications.
//
// Plan (pure) reads AzureIdentity, AzureIdentityBinding, the workloads whose
// pod templates carry the aadpodidbinding label, and the service accounts
// they run as, and decides what replaces each binding:
//
//   - a federated identity credential on every identity a workload is bound
//     to, trusting the cluster's issuer for the workload's service account;
//   - the azure.workload.identity/client-id annotation on that service
//     account (a dedicated account when one account would need two
//     different default identities);
//   - the azure.workload.identity/use label on the pod template, so new pods
//     get the projected token.
//
// The aadpodidbinding label and the bindings stay: the application keeps
// calling the node's IMDS endpoint, and the node agent answers a pod that
// has a workload-identity token by exchanging that token (identity proven by
// the token, not by the pod's address). Removing the bindings is a separate,
// later step the plan prints.
//
// Gather (I/O) reads the objects from a cluster; Apply makes the changes;
// Render prints the plan as the kubectl and az commands that do the same.
package migrate
