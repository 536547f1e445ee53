package doctor

// clusterChecks are the checks of the cluster's installation: CRDs,
// controllers, node agents, what could not be gathered.
func clusterChecks() []Check {
	return []Check{
		CheckFunc{CheckName: "gather", Fn: checkGather},
		CheckFunc{CheckName: "crds-installed", Fn: checkCRDs},
		CheckFunc{CheckName: "controller", Fn: checkController},
		CheckFunc{CheckName: "node-agent", Fn: checkNodeAgents},
		CheckFunc{CheckName: "agent-taint", Fn: checkAgentTaint},
		CheckFunc{CheckName: "duplicate-agents", Fn: checkDuplicateAgents},
	}
}
