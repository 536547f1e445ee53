package doctor

// objectChecks are the checks of pods, identities, bindings and
// assignments.
func objectChecks() []Check { return nil }
