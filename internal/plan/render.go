package plan

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/image"
)

// Render prints the plan as numbered steps, with placeholders for values
// known only at run time. Secrets are never printed.
func (p *Plan) Render(w io.Writer) error {
	rt := p.Placeholders()
	var b strings.Builder
	step := 0
	s := func(title, format string, args ...any) {
		step++
		fmt.Fprintf(&b, "%2d. %-14s "+format+"\n", append([]any{step, title}, args...)...)
	}
	d := func(format string, args ...any) { fmt.Fprintf(&b, "                   "+format+"\n", args...) }

	fmt.Fprintf(&b, "podid up plan (state folder %s)\n\n", p.StateDir)
	s("lock", "take %s; refuse to start if another podid up holds it", p.LockFile)
	s("clean", "recreate %s (control-plane data, logs, cloud state)", p.RunDir)
	if len(p.RealNodes) > 0 {
		s("binaries", "build or reuse kube-apiserver, kube-scheduler, kube-controller-manager, kubelet, etcd and kwok in the podid cache")
	} else {
		s("binaries", "build or reuse kube-apiserver, kube-scheduler, kube-controller-manager, etcd and kwok in the podid cache")
	}
	s("cloud", "embedded Azure cloud on 127.0.0.1:%s from world %s", port(p.CloudPort), p.WorldSource)
	d("tenant %s (%s), node pool %s", p.TenantName, p.TenantID, p.ScaleSetID)
	d("log %s", p.CloudLog)
	if len(p.Skipped) > 0 {
		d("without the grants of seed 004 step(s) %s", strings.Join(p.Skipped, ", "))
	}
	p.SignIn.render(s, d, rt)
	s("control plane", "etcd and kube-apiserver on 127.0.0.1:%s; service-account issuer = the apiserver URL; kube-scheduler and kube-controller-manager, so Deployments and unscheduled pods work", port(p.APIServerPort))
	d("kube-apiserver %s", strings.Join(p.SignIn.APIServerArgs(), " "))
	if p.SignIn.LocalAccounts {
		d("admin kubeconfig %s", p.Kubeconfig)
	} else {
		d("local accounts disabled: no admin kubeconfig in the state folder (podid's own components use %s); podid get-credentials --admin is refused", p.Kubeconfig)
	}
	d("the cloud then trusts the apiserver CA, to verify federated service-account tokens")
	if b := p.SignIn.AdminBinding(); b != nil {
		s("admins", "ClusterRoleBinding %s: %s -> ClusterRole cluster-admin", b.Name, p.SignIn.adminGroupNames())
	}
	if f := p.Federation; f != nil {
		s("federation", "identity %s trusts issuer %s", f.IdentityID, rt.Issuer)
		d("subject %s, audience %s", f.Subject, f.Audience)
	}
	s("crds", "install the aadpodidentity.k8s.io CRDs")
	s("kwok", "kwok with %d fake nodes, each a VMSS instance:", len(p.Nodes))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "                   NODE\tINSTANCE\tINTERNAL IP\tPOD CIDR\tAGENT\n")
	for _, n := range p.Nodes {
		fmt.Fprintf(tw, "                   %s\t%s\t%s\t%s\t%s\n", n.Name, n.Instance, n.InternalIP, n.PodCIDR, n.AgentAddr)
	}
	_ = tw.Flush()
	if t := p.FakeNodeTaint; t != nil {
		d("tainted %s=%s:%s, so workloads land on the real nodes", t.Key, t.Value, t.Effect)
	}
	if len(p.RealNodes) > 0 {
		s("images", "build %d images for this machine's architecture, with the cloud's CA in their trust store, into a loopback registry that the nodes reach as %s and %s:", len(p.Images), RegistryHost, DockerHub)
		for _, im := range p.Images {
			d("%s", strings.Join(im.Refs, ", "))
		}
		p.renderACR(s, d)
		s("azure names", "DNS on %s:53 answering Azure's host names (%s) with %s, where the cloud serves them on port 443", p.RealNodes[0].InternalIP, strings.Join(cloud.AzureNames(), ", "), p.RealNodes[0].InternalIP)
		s("real nodes", "containerd and a kubelet per node, pods on a bridge with no masquerade:")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "                   NODE\tINSTANCE\tNODE IP\tPOD CIDR\tBRIDGE\tFOLDER\n")
		for _, n := range p.RealNodes {
			fmt.Fprintf(tw, "                   %s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Instance, n.InternalIP, n.PodCIDR, n.Real.Bridge, n.Real.Dir)
		}
		_ = tw.Flush()
	}
	if c := p.Chart; c != nil {
		s("chart values", "write %s: podid's chart on the real node %s (image %s, mic and nmi in the host network, the webhook off); podid up runs no mic, agent or webhook", c.ValuesFile, p.RealNodes[0].Name, PodidImage.Refs[0])
		d("helm install %s charts/podid -n %s -f %s", c.Release, c.Namespace, c.ValuesFile)
	} else {
		s("webhook", "the workload-identity webhook (podid wi-webhook) on a free loopback port, called by URL; pods labelled azure.workload.identity/use get their projected token")
		d("log %s", p.WebhookLog())
		s("accounts", "ServiceAccount %s/%s for the node agents", AgentNamespace, AgentServiceAccount)
		if p.Mic.AppID != "" {
			s("mic", "write the secret of service principal %s to %s", p.Mic.App, p.Mic.SecretFile)
			d("run %s %s", rt.Executable, strings.Join(p.MicArgs(rt), " "))
		} else {
			s("mic", "run %s %s", rt.Executable, strings.Join(p.MicArgs(rt), " "))
			d("no service principal for mic in the world: node token mode cannot assign identities")
		}
		d("log %s", p.Mic.Log)
		if len(p.RealNodes) > 0 {
			s("nmi", "one node agent per node; on real nodes it redirects 169.254.169.254 with iptables, rules removed by podid down")
		} else {
			s("nmi", "one node agent per node, --manage-iptables=false (token requests go to the agent directly)")
		}
		for _, n := range p.AllNodes() {
			d("run %s %s", rt.Executable, strings.Join(p.AgentArgs(n, rt), " "))
		}
	}
	if dm := p.Demo; dm != nil {
		s("demo", "namespace %s: AzureIdentity %s (client %s), AzureIdentityBinding %s (selector %s)", dm.Namespace, dm.IdentityName, dm.ClientID, dm.Binding, dm.Selector)
		for _, pod := range dm.Pods {
			label := "labelled"
			if !pod.Bound {
				label = "no label"
			}
			d("pod %s on %s (%s)", pod.Name, pod.Node, label)
		}
		if p.Chart != nil {
			s("wait", "nodes Ready, pods Running")
		} else {
			s("wait", "nodes Ready, pods Running, assignments Assigned, agents ready")
		}
	} else if p.Chart != nil {
		s("wait", "nodes Ready")
	} else {
		s("wait", "nodes Ready, agents ready")
	}
	s("record", "write %s; print the status and the next commands", p.RecordFile)
	_, err := io.WriteString(w, b.String())
	return err
}

func port(p int) string {
	if p == 0 {
		return "<free port>"
	}
	return strconv.Itoa(p)
}

// renderACR prints the registry step: what podid up pushes where, whether
// the kubelet identity may pull it, and how the nodes pull.
func (p *Plan) renderACR(s func(title, format string, args ...any), d func(format string, args ...any)) {
	a := p.ACR
	if a == nil {
		return
	}
	if a.Registry == "" {
		s("acr", "no registry in the world (declare one under registries: of a resource group), so nothing is pushed")
	} else {
		s("acr", "push the %d images into registry %s of the world, as %s/<name>:%s:", len(a.Images), a.Registry, a.LoginServer, image.DefaultTag)
		d("%s", strings.Join(a.Images, ", "))
		if a.Attached {
			d("kubelet identity %s (client %s) may pull from it, as after az aks create --attach-acr (AcrPull)", a.KubeletIdentity, a.KubeletClientID)
		} else {
			d("kubelet identity %s (client %s) may not pull from it: pulls get 401 until podid cloud acr attach --registry %s --principal %s", a.KubeletIdentity, a.KubeletClientID, a.Registry, a.KubeletIdentity)
		}
	}
	d("each kubelet runs podid acr-credential-provider for *.azurecr.io (azure.json with the kubelet identity, its instance's IMDS); containerd reaches the registries through the front door %s", a.FrontDoor)
}
