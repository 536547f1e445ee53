// Package plan decides what `podid up` runs, without doing any of it.
//
// MakePlan turns an Input (flags, the parsed world) into a Plan: the state
// folder layout, the fake nodes and the VMSS instance each stands for, the
// federated credential the demo identity needs, the arguments of mic and of
// every node agent (log format and verbosity included, so the run folder's
// logs share one format), the demo objects, and the cluster's Azure AD
// sign-in (SignIn: kube-apiserver's authentication configuration, the
// admin groups' ClusterRoleBinding, local accounts, Azure RBAC). The plan is pure and printable
// (Plan.Render, what `podid up --dry-run` shows, pinned by golden files);
// package internal/cli/up applies it. Values known only once processes run
// (ports picked at start, the cloud URL) enter through Runtime, for which
// Placeholders stands in when printing.
//
// The Record type is what a running `podid up` writes to its state folder
// so that `podid status`, `podid down` and `podid token` can find it.
package plan
