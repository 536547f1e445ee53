package doctor

// objectChecks are the checks of pods, identities, bindings and
// assignments. Those about which binding serves which pod read mic's own
// decision (objects_decide.go) rather than deciding again.
func objectChecks() []Check {
	return []Check{
		CheckFunc{CheckName: "pod-binding", Fn: checkPodBinding},
		CheckFunc{CheckName: "binding-identity", Fn: checkBindingIdentity},
		CheckFunc{CheckName: "identity-fields", Fn: checkIdentityFields},
		CheckFunc{CheckName: "overlapping-selectors", Fn: checkOverlappingSelectors},
		CheckFunc{CheckName: "binding-namespace", Fn: checkBindingNamespace},
		CheckFunc{CheckName: "pod-exempt", Fn: checkPodExempt},
		CheckFunc{CheckName: "token-mode-annotation", Fn: checkTokenModeAnnotation},
		CheckFunc{CheckName: "assignment-state", Fn: checkAssignmentState},
		CheckFunc{CheckName: "sp-secret", Fn: checkSPSecret},
		CheckFunc{CheckName: "legacy-crds", Fn: checkLegacyCRDs},
		CheckFunc{CheckName: "stale-assignments", Fn: checkStaleAssignments},
		CheckFunc{CheckName: "unused-identity", Fn: checkUnusedIdentities},
		CheckFunc{CheckName: "token-refusals", Fn: checkTokenRefusals},
	}
}
