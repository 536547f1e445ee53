package podindex

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
)

type podMod func(*corev1.Pod)

func pod(name, ip string, mods ...podMod) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": name},
			UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(time.Unix(1_760_000_000, 0))},
		Spec:   corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func phase(ph corev1.PodPhase) podMod { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func hostNet(p *corev1.Pod)           { p.Spec.HostNetwork = true }

// deleting marks the pod deleted; the kubelet has not torn it down yet, so
// it is still Running.
func deleting(p *corev1.Pod) {
	t := metav1.NewTime(time.Unix(1_760_000_100, 0))
	p.DeletionTimestamp = &t
}

// containers sets the kubelet's report of the pod's app containers, one
// state each: "running", "terminated" or "waiting".
func containers(states ...string) podMod {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = containerStatuses(states) }
}

// initContainers is containers for the init containers.
func initContainers(states ...string) podMod {
	return func(p *corev1.Pod) { p.Status.InitContainerStatuses = containerStatuses(states) }
}

func containerStatuses(states []string) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, 0, len(states))
	for i, st := range states {
		c := corev1.ContainerStatus{Name: "c" + strconv.Itoa(i)}
		switch st {
		case "running":
			c.State.Running = &corev1.ContainerStateRunning{}
		case "terminated":
			c.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0}
		case "waiting":
			c.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		default:
			panic("unknown container state " + st)
		}
		out = append(out, c)
	}
	return out
}

// labelled sets the pod's aadpodidbinding label.
func labelled(selector string) podMod {
	return func(p *corev1.Pod) { p.Labels[v1.SelectorLabel] = selector }
}

func exception(ns string, labels map[string]string) *v1.AzurePodIdentityException {
	return &v1.AzurePodIdentityException{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ex"},
		Spec: v1.AzurePodIdentityExceptionSpec{PodLabels: labels}}
}

func aai(name, podName, identity, state string) *v1.AzureAssignedIdentity {
	return &v1.AzureAssignedIdentity{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{v1.NodeNameLabel: "n1"}},
		Spec: v1.AzureAssignedIdentitySpec{Pod: podName, PodNamespace: "default", NodeName: "n1",
			AzureIdentityRef: &v1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: identity},
				Spec: v1.AzureIdentitySpec{ClientID: identity + "-client"}},
			AzureBindingRef: &v1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: identity + "-binding"},
				Spec: v1.AzureIdentityBindingSpec{AzureIdentity: identity, Selector: identity + "-selector"}}},
		Status: v1.AzureAssignedIdentityStatus{Status: state},
	}
}

func TestPodIPsIndexesOnlyLivePods(t *testing.T) {
	cases := map[string]struct {
		pod  *corev1.Pod
		want int
	}{
		"a running pod is indexed by its IP":             {pod: pod("a", "10.0.0.1"), want: 1},
		"a pending pod is indexed":                       {pod: pod("a", "10.0.0.1", phase(corev1.PodPending)), want: 1},
		"a succeeded pod is not indexed":                 {pod: pod("a", "10.0.0.1", phase(corev1.PodSucceeded)), want: 0},
		"a failed pod is not indexed":                    {pod: pod("a", "10.0.0.1", phase(corev1.PodFailed)), want: 0},
		"a pod without IP yet is not indexed":            {pod: pod("a", ""), want: 0},
		"a dual-stack pod is indexed under both its IPs": {pod: pod("a", "10.0.0.1", func(p *corev1.Pod) { p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: "fd00::1"}) }), want: 2},
		"a deleted pod whose container still runs is indexed": {
			pod: pod("a", "10.0.0.1", deleting, containers("terminated", "running")), want: 1},
		"a deleted pod whose containers have all terminated is not indexed": {
			pod: pod("a", "10.0.0.1", deleting, containers("terminated", "terminated")), want: 0},
		"a deleted pod with no running container is not indexed": {
			pod: pod("a", "10.0.0.1", deleting, containers("waiting")), want: 0},
		"a deleted pod the kubelet reports no container of is not indexed": {
			pod: pod("a", "10.0.0.1", deleting), want: 0},
		"a deleted pod whose init container still runs is indexed": {
			pod: pod("a", "10.0.0.1", deleting, phase(corev1.PodPending), initContainers("running"), containers("waiting")), want: 1},
		"a running pod whose containers have stopped but is not deleted is indexed": {
			pod: pod("a", "10.0.0.1", containers("terminated")), want: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, _ := podIPs(tc.pod)
			if len(got) != tc.want {
				t.Fatalf("indexed under %v, want %d keys", got, tc.want)
			}
		})
	}
}

func TestResolveCaller(t *testing.T) {
	never := func(*corev1.Pod) bool { return false }
	always := func(*corev1.Pod) bool { return true }
	cases := map[string]struct {
		pods       []*corev1.Pod
		exempt     func(*corev1.Pod) bool
		want       string
		wantErr    error
		wantHost   bool
		wantExempt bool
	}{
		"no pod at the address is an unknown caller":          {exempt: never, wantErr: server.ErrUnknownCaller},
		"one pod at the address is the caller":                {pods: []*corev1.Pod{pod("a", "ip")}, exempt: never, want: "default/a"},
		"two pods with one address are refused":               {pods: []*corev1.Pod{pod("a", "ip"), pod("b", "ip")}, exempt: never, wantErr: server.ErrAmbiguousCaller},
		"a finished pod sharing the address does not count":   {pods: []*corev1.Pod{pod("a", "ip"), pod("b", "ip", phase(corev1.PodSucceeded))}, exempt: never, want: "default/a"},
		"a hostNetwork pod is reported as such":               {pods: []*corev1.Pod{pod("h", "node", hostNet)}, exempt: never, want: "default/h", wantHost: true},
		"hostNetwork pods are exempt only if all of them are": {pods: []*corev1.Pod{pod("h", "node", hostNet), pod("k", "node", hostNet)}, exempt: func(p *corev1.Pod) bool { return p.Name == "h" }, want: "default/h", wantHost: true},
		"hostNetwork pods all covered by exceptions pass":     {pods: []*corev1.Pod{pod("h", "node", hostNet), pod("k", "node", hostNet)}, exempt: always, want: "default/h", wantHost: true, wantExempt: true},
		"an exempt regular pod is marked exempt":              {pods: []*corev1.Pod{pod("a", "ip")}, exempt: always, want: "default/a", wantExempt: true},
		"a regular pod sharing the node's address is refused": {pods: []*corev1.Pod{pod("a", "ip"), pod("h", "ip", hostNet)}, exempt: never, wantErr: server.ErrAmbiguousCaller},
		"a failed pod sharing the address does not count":     {pods: []*corev1.Pod{pod("a", "ip"), pod("b", "ip", phase(corev1.PodFailed))}, exempt: never, want: "default/a"},
		"a new pod at the address of a deleted pod whose containers stopped is the caller": {
			pods: []*corev1.Pod{pod("old", "ip", deleting, containers("terminated")), pod("new", "ip")}, exempt: never, want: "default/new"},
		"a new pod at the address of a deleted pod still running is refused until it stops": {
			pods: []*corev1.Pod{pod("old", "ip", deleting, containers("running")), pod("new", "ip")}, exempt: never, wantErr: server.ErrAmbiguousCaller},
		"only a deleted pod whose containers stopped is at the address: unknown": {
			pods: []*corev1.Pod{pod("old", "ip", deleting, containers("terminated"))}, exempt: never, wantErr: server.ErrUnknownCaller},
		"a deleted pod still running is still the caller": {
			pods: []*corev1.Pod{pod("old", "ip", deleting, containers("running"))}, exempt: never, want: "default/old"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := resolveCaller(tc.pods, tc.exempt)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if c.Pod.String() != tc.want || c.HostNetwork != tc.wantHost || c.Exempt != tc.wantExempt {
				t.Fatalf("caller %+v", c)
			}
		})
	}
}

func TestExempted(t *testing.T) {
	p := pod("a", "ip", func(p *corev1.Pod) { p.Labels["tier"], p.Labels["blank"] = "system", "" })
	cases := map[string]struct {
		ex   *v1.AzurePodIdentityException
		want bool
	}{
		"an exception whose labels the pod carries covers it":          {ex: exception("default", map[string]string{"tier": "system"}), want: true},
		"every listed label must match":                                {ex: exception("default", map[string]string{"tier": "system", "x": "y"})},
		"a label with another value does not match":                    {ex: exception("default", map[string]string{"tier": "web"})},
		"an exception of another namespace does not cover it":          {ex: exception("other", map[string]string{"tier": "system"})},
		"an exception without labels covers nothing":                   {ex: exception("default", nil)},
		"an empty listed value does not cover a pod without the label": {ex: exception("default", map[string]string{"tier": "system", "canary": ""})},
		"an empty listed value covers a pod carrying the label empty":  {ex: exception("default", map[string]string{"tier": "system", "blank": ""}), want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := exempted(p, []*v1.AzurePodIdentityException{tc.ex}); got != tc.want {
				t.Fatalf("exempted %v, want %v", got, tc.want)
			}
		})
	}
}

func TestToAssignedReadsTheLiveIdentity(t *testing.T) {
	a := aai("x", "app", "id1", v1.AssignedIDAssigned)
	a.Spec.AzureIdentityRef.Spec.ClientID = "forged-client"
	a.Spec.AzureIdentityRef.Spec.ClientPassword = &corev1.SecretReference{Namespace: "elsewhere", Name: "forged"}
	live := a.Spec.AzureIdentityRef.DeepCopy()
	live.Annotations = map[string]string{TokenModeAnnotation: "Federated"}
	live.Spec.Type = v1.ServicePrincipal
	live.Spec.ClientID = "id1-client"
	live.Spec.ClientPassword = &corev1.SecretReference{Name: "sp"}
	got := toAssigned(a, live)
	want := server.Assigned{Name: "default/x", State: v1.AssignedIDAssigned, Identity: tokens.Identity{
		Name: "default/id1", Type: v1.ServicePrincipal, ClientID: "id1-client", Mode: tokens.ModeFederated,
		SecretNamespace: "default", SecretName: "sp"}}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// TestAgentObeysTheAssignedTokenMode runs assignments through toAssigned
// and a real router: the mode mic resolved into spec.tokenMode decides, and
// an older mic's assignment gets the same rule with the agent's default.
func TestAgentObeysTheAssignedTokenMode(t *testing.T) {
	cases := map[string]struct {
		typ        v1.IdentityType
		secret     string // spec.clientPassword.name
		annotation string
		assigned   string // spec.tokenMode
		agent      tokens.Mode
		want       string // the source that serves the request
	}{
		"the assigned node mode wins over a federated annotation and agent": {
			annotation: "federated", assigned: "node", agent: tokens.ModeFederated, want: "node"},
		"the assigned federated mode wins over a node agent": {
			assigned: "federated", agent: tokens.ModeNode, want: "federated"},
		"an assigned federated mode holds for a service principal with a Secret": {
			typ: v1.ServicePrincipal, secret: "sp", assigned: "federated", agent: tokens.ModeNode, want: "federated"},
		"an older assignment of a service principal uses its Secret in a federated agent": {
			typ: v1.ServicePrincipal, secret: "sp", agent: tokens.ModeFederated, want: "secret"},
		"an older assignment with an invalid annotation gets the federated agent's default": {
			annotation: "imds", agent: tokens.ModeFederated, want: "federated"},
		"an older assignment with a valid annotation keeps it": {
			annotation: "Node", agent: tokens.ModeFederated, want: "node"},
		"an invalid assigned mode counts as absent": {
			annotation: "federated", assigned: "bogus", agent: tokens.ModeNode, want: "federated"},
	}
	named := func(name string) tokens.TokenSource {
		return tokens.TokenSourceFunc(func(context.Context, tokens.Request) (tokens.Token, error) {
			return tokens.Token{AccessToken: name}, nil
		})
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := aai("x", "app", "id1", v1.AssignedIDAssigned)
			a.Spec.TokenMode = tc.assigned
			ref := a.Spec.AzureIdentityRef
			ref.Spec.Type = tc.typ
			if tc.annotation != "" {
				ref.Annotations = map[string]string{v1.TokenModeAnnotation: tc.annotation}
			}
			if tc.secret != "" {
				ref.Spec.ClientPassword = &corev1.SecretReference{Name: tc.secret}
			}
			r, err := tokens.NewRouter(tokens.RouterOptions{Default: tc.agent,
				Node: named("node"), Secret: named("secret"), Certificate: named("certificate"), Federated: named("federated")})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := r.Token(context.Background(), tokens.Request{Identity: toAssigned(a, ref).Identity})
			if err != nil || tok.AccessToken != tc.want {
				t.Fatalf("served by %q (%v), want %q", tok.AccessToken, err, tc.want)
			}
		})
	}
}

// newTestIndex builds an Index over plain indexers, as the informers would
// fill them.
func newTestIndex(t *testing.T) *Index {
	t.Helper()
	return &Index{
		pods:       cache.NewIndexer(cache.MetaNamespaceKeyFunc, podIndexers()),
		assigned:   cache.NewIndexer(cache.MetaNamespaceKeyFunc, assignedIndexers()),
		exceptions: cache.NewIndexer(cache.MetaNamespaceKeyFunc, exceptionIndexers()),
		bindings:   cache.NewIndexer(cache.MetaNamespaceKeyFunc, noIndexers()),
		identities: cache.NewIndexer(cache.MetaNamespaceKeyFunc, noIndexers()),
	}
}

func TestIndexAnswersThroughItsIndexes(t *testing.T) {
	x := newTestIndex(t)
	ctx := context.Background()
	_ = x.pods.Add(pod("app", "10.0.0.5", labelled("id1-selector")))
	_ = x.bindings.Add(aai("a1", "app", "id1", "").Spec.AzureBindingRef)
	_ = x.identities.Add(aai("a1", "app", "id1", "").Spec.AzureIdentityRef)
	_ = x.pods.Add(pod("sys", "10.0.0.6", func(p *corev1.Pod) { p.Labels["tier"] = "system" }))
	_ = x.exceptions.Add(exception("default", map[string]string{"tier": "system"}))
	_ = x.assigned.Add(aai("a1", "app", "id1", v1.AssignedIDAssigned))
	_ = x.assigned.Add(aai("a2", "other", "id2", v1.AssignedIDAssigned))

	c, _, err := x.ResolveCaller(ctx, netip.MustParseAddr("10.0.0.5"))
	if err != nil || c.Pod.Name != "app" || c.Exempt {
		t.Fatalf("caller %+v, %v", c, err)
	}
	if c, _, _ := x.ResolveCaller(ctx, netip.MustParseAddr("10.0.0.6")); !c.Exempt {
		t.Fatal("the pod covered by an exception is not exempt")
	}
	if _, _, err := x.ResolveCaller(ctx, netip.MustParseAddr("10.0.0.7")); !errors.Is(err, server.ErrUnknownCaller) {
		t.Fatalf("unknown address: %v", err)
	}
	list, _ := x.IdentitiesFor(ctx, c.Pod)
	if len(list) != 1 || list[0].Identity.Name != "default/id1" {
		t.Fatalf("identities %+v", list)
	}
	if _, _, err := x.LookupPod(ctx, server.PodRef{Namespace: "default", Name: "app"}); err != nil {
		t.Fatal(err)
	}
}

func TestChangesWakeWaiters(t *testing.T) {
	x := newTestIndex(t)
	_, ch := x.IdentitiesFor(context.Background(), server.PodRef{Namespace: "default", Name: "app"})
	select {
	case <-ch:
		t.Fatal("woken before any change")
	default:
	}
	x.changes.Notify()
	<-ch // closed by the change; a lost wake-up would hang the test
}

func TestIdentityGoneIsReportedWhenTheLastAssignmentGoes(t *testing.T) {
	x := newTestIndex(t)
	var gone []tokens.IdentityKey
	h := assignmentHandler(x, func(k tokens.IdentityKey) { gone = append(gone, k) })
	a1, a2 := aai("a1", "app", "id1", v1.AssignedIDAssigned), aai("a2", "app2", "id1", v1.AssignedIDAssigned)
	_ = x.assigned.Add(a1)
	_ = x.assigned.Add(a2)

	_ = x.assigned.Delete(a1)
	h.OnDelete(a1)
	if len(gone) != 0 {
		t.Fatalf("reported %v while a2 still uses the identity", gone)
	}
	unassigned := a2.DeepCopy()
	unassigned.Status.Status = v1.AssignedIDUnassigned
	_ = x.assigned.Update(unassigned)
	h.OnUpdate(a2, unassigned)
	if len(gone) != 1 || gone[0] != toIdentity(a2, a2.Spec.AzureIdentityRef).Key() {
		t.Fatalf("reported %v, want the identity's key once", gone)
	}
}
