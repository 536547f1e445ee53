package doctor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
)

// GatherOptions configure Gather.
type GatherOptions struct {
	Scope    Scope
	Settings Settings
	// AgentPort is the node agents' probe port on each node's InternalIP
	// (nmi --probe-address); 0 skips probing agents.
	AgentPort int
	// AgentAddress overrides where node n's agent is probed ("host:port"),
	// for agents that do not listen on the node's InternalIP (podid up's
	// fake nodes); nil uses InternalIP:AgentPort.
	AgentAddress func(node string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Supervised is what a podid up run supervises; it is copied into
	// Facts as is.
	Supervised *Supervised
}

// Scheme is what Gather's client must know: the built-in kinds, podid's
// and CustomResourceDefinitions.
func Scheme(base *runtime.Scheme) *runtime.Scheme {
	_ = apiextensionsv1.AddToScheme(base)
	return base
}

// Gather reads the facts. It only reads: lists, gets and agent probes.
// What it cannot read (RBAC, a missing CRD) goes into Facts.Problems and
// the checks that need it skip; it fails only when the API server cannot
// be reached at all.
func Gather(ctx context.Context, c client.Reader, o GatherOptions) (*Facts, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	f := &Facts{Scope: o.Scope, Settings: o.Settings, Supervised: o.Supervised, Now: now(), Secrets: map[string]SecretFact{}}
	gatherKubeletLogs(f)
	var nodes corev1.NodeList
	switch err := c.List(ctx, &nodes); {
	case apierrors.IsForbidden(err):
		// Reached, but not allowed: the gather check tells the grant.
		f.Problems = append(f.Problems, fmt.Sprintf("could not list Nodes: %v", err))
	case err != nil:
		return nil, fmt.Errorf("reach the API server (list nodes): %w", err)
	}
	f.Nodes = nodes.Items
	list := func(what string, l client.ObjectList, opts ...client.ListOption) bool {
		if err := c.List(ctx, l, opts...); err != nil {
			f.Problems = append(f.Problems, fmt.Sprintf("could not list %s: %v", what, err))
			return false
		}
		return true
	}
	var pods corev1.PodList
	if list("pods", &pods) {
		f.Pods = pods.Items
	}
	var ids podidv1.AzureIdentityList
	if list("AzureIdentities", &ids) {
		f.Identities = ids.Items
	}
	var bs podidv1.AzureIdentityBindingList
	if list("AzureIdentityBindings", &bs) {
		f.Bindings = bs.Items
	}
	var as podidv1.AzureAssignedIdentityList
	if list("AzureAssignedIdentities", &as) {
		f.Assignments = as.Items
	}
	var ex podidv1.AzurePodIdentityExceptionList
	if list("AzurePodIdentityExceptions", &ex) {
		f.Exceptions = ex.Items
	}
	var events corev1.EventList
	evOpts := []client.ListOption{client.MatchingFields{"type": corev1.EventTypeWarning}}
	if ns := scopeNamespace(f); ns != "" {
		evOpts = append(evOpts, client.InNamespace(ns))
	}
	if list("events", &events, evOpts...) {
		f.Events = events.Items
		sort.SliceStable(f.Events, func(i, j int) bool { return eventTime(f.Events[i]).Before(eventTime(f.Events[j])) })
	}
	var crds apiextensionsv1.CustomResourceDefinitionList
	if list("CustomResourceDefinitions", &crds) {
		for _, crd := range crds.Items {
			if crd.Spec.Group == podidv1.GroupVersion.Group {
				f.CRDs = append(f.CRDs, crd)
			}
		}
	}
	var deps appsv1.DeploymentList
	if list("Deployments", &deps) {
		for _, d := range deps.Items {
			if c, ok := componentOf("Deployment", &d.ObjectMeta, d.Spec.Template.Spec); ok {
				c.Desired, c.Ready = ptrOr(d.Spec.Replicas, 1), d.Status.ReadyReplicas
				f.Components = append(f.Components, c)
			}
		}
	}
	var dss appsv1.DaemonSetList
	if list("DaemonSets", &dss) {
		for _, d := range dss.Items {
			if c, ok := componentOf("DaemonSet", &d.ObjectMeta, d.Spec.Template.Spec); ok {
				c.Desired, c.Ready = d.Status.DesiredNumberScheduled, d.Status.NumberReady
				f.Components = append(f.Components, c)
			}
		}
	}
	gatherWI(ctx, c, f, deps.Items)
	var leases coordinationv1.LeaseList
	if list("Leases", &leases) {
		f.Leases = leases.Items
	}
	gatherSecrets(ctx, c, f)
	if o.AgentPort != 0 || o.AgentAddress != nil {
		f.Agents = probeAgents(ctx, f, o)
	}
	return f, nil
}

func scopeNamespace(f *Facts) string {
	switch {
	case f.Scope.Pod != "":
		ns, _, _ := strings.Cut(f.Scope.Pod, "/")
		return ns
	case f.Scope.Identity != "":
		ns, _, _ := strings.Cut(f.Scope.Identity, "/")
		return ns
	}
	return f.Scope.Namespace
}

func eventTime(e corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// componentOf recognises a pod identity controller or agent by its
// container's image and arguments: podid's `podid mic`/`podid nmi` (or
// the mic and nmi binaries) and aad-pod-identity's mic and nmi images.
func componentOf(kind string, meta metav1Object, spec corev1.PodSpec) (Component, bool) {
	if len(spec.Containers) == 0 {
		return Component{}, false
	}
	ctr := spec.Containers[0]
	words := strings.ToLower(strings.Join(append(append([]string{ctr.Image}, ctr.Command...), ctr.Args...), " "))
	c := Component{Object: Object(kind, meta.GetNamespace(), meta.GetName()), Image: ctr.Image}
	if rel := meta.GetAnnotations()["meta.helm.sh/release-name"]; rel != "" {
		ns := meta.GetAnnotations()["meta.helm.sh/release-namespace"]
		if ns == "" {
			ns = meta.GetNamespace()
		}
		c.HelmRelease = key(ns, rel)
	}
	switch {
	case strings.Contains(words, "aad-pod-identity") || strings.Contains(words, "k8s/aad-pod-identity"):
		c.Product = "aad-pod-identity"
	case strings.Contains(words, "podid"):
		c.Product = "podid"
	default:
		return Component{}, false
	}
	switch {
	case strings.Contains(words, "nmi"):
		c.Kind = NodeAgent
	case strings.Contains(words, "mic"):
		c.Kind = Controller
	default:
		return Component{}, false
	}
	return c, true
}

// metav1Object is the part of an object's metadata componentOf reads.
type metav1Object interface {
	GetNamespace() string
	GetName() string
	GetAnnotations() map[string]string
}

// gatherSecrets reads the Secrets service-principal identities in scope
// name, keeping only whether they exist and their keys.
func gatherSecrets(ctx context.Context, c client.Reader, f *Facts) {
	for i := range f.Identities {
		id := &f.Identities[i]
		ref := id.Spec.ClientPassword
		if ref == nil || ref.Name == "" || !f.IdentityInScope(id) {
			continue
		}
		ns := ref.Namespace
		if ns == "" {
			ns = id.Namespace
		}
		k := key(ns, ref.Name)
		if _, done := f.Secrets[k]; done {
			continue
		}
		var s corev1.Secret
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, &s)
		switch {
		case err == nil:
			keys := make([]string, 0, len(s.Data))
			for k := range s.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			f.Secrets[k] = SecretFact{Exists: true, Keys: keys}
		case client.IgnoreNotFound(err) == nil:
			f.Secrets[k] = SecretFact{}
		default:
			f.Secrets[k] = SecretFact{Err: err.Error()}
		}
	}
}

// probeAgents asks the agent of every node that runs a pod in scope for
// /readyz, at most 16 at once, each within 2 seconds.
func probeAgents(ctx context.Context, f *Facts, o GatherOptions) map[string]AgentFact {
	want := map[string]bool{}
	for i := range f.Pods {
		if p := &f.Pods[i]; p.Spec.NodeName != "" && f.PodInScope(p) {
			want[p.Spec.NodeName] = true
		}
	}
	out := map[string]AgentFact{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, n := range f.Nodes {
		if !want[n.Name] {
			continue
		}
		addr := ""
		if o.AgentAddress != nil {
			addr = o.AgentAddress(n.Name)
		} else {
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					addr = net.JoinHostPort(a.Address, fmt.Sprint(o.AgentPort))
				}
			}
		}
		if addr == "" {
			continue
		}
		wg.Add(1)
		go func(node, addr string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fact := probe(ctx, client, addr)
			mu.Lock()
			out[node] = fact
			mu.Unlock()
		}(n.Name, addr)
	}
	wg.Wait()
	return out
}

func probe(ctx context.Context, c *http.Client, addr string) AgentFact {
	fact := AgentFact{Address: addr}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		fact.Detail = err.Error()
		return fact
	}
	resp, err := c.Do(req)
	if err != nil {
		fact.Detail = err.Error()
		return fact
	}
	defer resp.Body.Close()
	fact.Reachable = true
	fact.Ready = resp.StatusCode == http.StatusOK
	fact.Detail = resp.Status
	// The agent says why it is not ready in the body.
	if body, _ := io.ReadAll(io.LimitReader(resp.Body, 512)); len(bytes.TrimSpace(body)) > 0 {
		fact.Detail += ": " + string(bytes.TrimSpace(body))
	}
	return fact
}
