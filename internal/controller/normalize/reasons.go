package normalize

// Event reasons.
const (
	// ReasonNormalized: values under older spellings were moved to their
	// canonical fields.
	ReasonNormalized = "LegacyFieldsNormalized"
	// ReasonFieldConflict: a field is spelled twice with different values,
	// or a key matches no field.
	ReasonFieldConflict = "LegacyFieldConflict"
	// ReasonIncompleteIdentity: an identity lacks a field its type needs.
	ReasonIncompleteIdentity = "IncompleteIdentity"
	// ReasonInvalidTokenMode: an identity's token-mode annotation is neither
	// federated nor node, so the identity gets the mode it would have
	// without it (see podidv1.ResolveTokenMode).
	ReasonInvalidTokenMode = "InvalidTokenMode"
)
