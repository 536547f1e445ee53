package signin

// LocalAccountsDisabled is AKS's refusal of the admin (static) credential
// of a cluster created with --disable-local-accounts: the message of its
// 400 BadRequest, which az prints after "Operation failed with status:
// 'Bad Request'. Details: ".
const LocalAccountsDisabled = "Getting static credential isn't allowed because this cluster is set to disable local accounts."
