package doctor

// clusterChecks are the checks of the cluster's installation: CRDs,
// controllers, node agents, what could not be gathered.
func clusterChecks() []Check { return nil }
