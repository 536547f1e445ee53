package v1

// AgentNotReadyTaint is the taint key that keeps workloads off a node until
// podid's node agent has its rules in place and serves: register nodes
// with it (a node pool's --node-taints podid.dev/agent-not-ready=true:NoSchedule,
// or the kubelet's --register-with-taints), and the agent, which tolerates
// every taint, removes it once it is ready. Without it, a pod scheduled
// before the agent ever ran on a fresh node could reach the node's IMDS,
// since no rule exists yet to stop it.
const AgentNotReadyTaint = "podid.dev/agent-not-ready"
