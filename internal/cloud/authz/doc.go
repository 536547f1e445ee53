// Package authz decides Azure RBAC questions without any I/O.
//
// Authorize answers "may principal P perform action A at scope S" from a list
// of role assignments and role definitions, the way Azure Resource Manager
// does: an assignment applies to its scope and every scope below it, actions
// match case-insensitively with '*' wildcards, notActions subtract from
// actions, and data actions are only granted by dataActions. Builtins holds
// the built-in role definitions podid users meet, with their real IDs.
package authz
