package up

import (
	"context"
	"sort"

	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/proc"
)

// component is one part of what podid up runs. The runner starts the
// plan's components in order and stops the started ones in reverse, so
// adding a part of the system is adding an entry here, not another step
// woven through apply and stop.
type component struct {
	// name says what the component is in errors and logs.
	name string
	// start starts it and returns once it is ready; nil for a component
	// that only has something to undo.
	start func(ctx context.Context) error
	// stop undoes start; nil when there is nothing to undo. It must be
	// safe after a failed start.
	stop func()
	// describe lists the component's processes for the run record and
	// podid status; nil when it runs none of its own.
	describe func() []plan.Process
}

// components lists what the plan runs, in start order.
func (r *runner) components() []component {
	cs := []component{
		{name: "run folder", start: r.prepare},
		{name: "binaries", start: r.binaries},
		// The cloud and the sign-in come first: kube-apiserver reads the
		// cloud's issuer and the Azure RBAC webhook's address at start.
		{name: "cloud", start: r.startCloud, stop: r.stopCloud},
		{name: "sign-in", start: r.startSignIn, stop: r.stopSignIn},
		{name: "control plane", start: r.startControlPlane, stop: r.stopControlPlane, describe: r.describeControlPlane},
		{name: "cloud trust", start: r.trustControlPlane},
		{name: "clients", start: r.clients},
		{name: "admin groups", start: r.bindAdmins},
		{name: "crds", start: r.installCRDs},
		{name: "kwok", start: r.startKwok, stop: r.stopChildren, describe: func() []plan.Process { return r.describe(r.kwok) }},
		{name: "fake nodes", start: r.createNodes},
	}
	if len(r.p.RealNodes) > 0 {
		cs = append(cs,
			component{name: "images", start: r.serveImages, stop: r.stopRegistry},
			component{name: "acr images", start: r.pushToACR},
			component{name: "real nodes", start: r.startRealNodes, stop: r.stopRealNodes, describe: r.describeRealNodes},
			// After the nodes: it listens on the first node's address.
			component{name: "azure names", start: r.serveAzureNames, stop: r.stopAzureNames},
			// Listed before the agents so that it is undone after them:
			// the agents leave their rules in place by design, and
			// podid down is the uninstall that removes them.
			component{name: "agent rules", stop: r.removeAgentRules},
		)
	}
	if r.p.Chart != nil {
		// The user installs podid with its chart: podid up writes the
		// values and runs none of podid's components itself.
		cs = append(cs, component{name: "chart values", start: r.writeChartValues})
	} else {
		cs = append(cs,
			component{name: "workload-identity webhook", start: r.startWebhook, stop: r.stopChildren, describe: func() []plan.Process { return r.describe(r.webhook) }},
			component{name: "agent account", start: r.createAgentAccount},
			component{name: "mic", start: r.startMic, stop: r.stopChildren, describe: func() []plan.Process { return r.describe(r.mic) }},
			component{name: "agents", start: r.startAgents, stop: r.stopChildren, describe: func() []plan.Process { return r.describe(r.agents...) }},
		)
	}
	if r.p.Demo != nil {
		cs = append(cs, component{name: "demo", start: r.applyDemo})
	}
	return append(cs, component{name: "wait", start: r.waitReady})
}

// stopChildren stops the supervised children (kwok, mic, agents) in
// reverse start order. Each of their components lists it; stopping a
// stopped child is harmless, so the first call does the work.
func (r *runner) stopChildren() {
	for i := len(r.children) - 1; i >= 0; i-- {
		r.children[i].Stop(stopGrace)
	}
}

// describe lists children as the record shows them; a node agent's
// process carries its address.
func (r *runner) describe(children ...*proc.Process) []plan.Process {
	addrs := map[string]string{}
	for _, n := range r.p.AllNodes() {
		addrs["nmi "+n.Name] = n.AgentAddr
	}
	var out []plan.Process
	for _, c := range children {
		if c != nil {
			out = append(out, plan.Process{Name: c.Name(), PID: c.PID(), Address: addrs[c.Name()], Log: c.LogFile()})
		}
	}
	return out
}

func (r *runner) describeControlPlane() []plan.Process {
	if r.cp == nil {
		return nil
	}
	pids := r.cp.PIDs()
	names := make([]string, 0, len(pids))
	for n := range pids {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]plan.Process, 0, len(names))
	for _, n := range names {
		p := plan.Process{Name: n, PID: pids[n], Log: r.p.RunDir + "/" + n + ".log"}
		if n == "kube-apiserver" {
			p.Address = r.cp.URL
		}
		out = append(out, p)
	}
	return out
}

func (r *runner) describeRealNodes() []plan.Process {
	var out []plan.Process
	for _, n := range r.realNodes {
		out = append(out, r.describe(n.Processes()...)...)
	}
	return out
}
