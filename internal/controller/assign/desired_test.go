package assign

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
)

func pod(ns, name, selector string, mods ...func(*Pod)) Pod {
	p := Pod{Namespace: ns, Name: name, NodeName: "node-0", Phase: corev1.PodRunning, Labels: map[string]string{}}
	if selector != "" {
		p.Labels[podidv1.SelectorLabel] = selector
	}
	for _, m := range mods {
		m(&p)
	}
	return p
}

func identity(ns, name string, annotations ...string) podidv1.AzureIdentity {
	id := podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if len(annotations) == 2 {
		id.Annotations = map[string]string{annotations[0]: annotations[1]}
	}
	return id
}

func binding(ns, name, identity, selector string) podidv1.AzureIdentityBinding {
	return podidv1.AzureIdentityBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       podidv1.AzureIdentityBindingSpec{AzureIdentity: identity, Selector: selector},
	}
}

func exception(ns string, labels map[string]string) podidv1.AzurePodIdentityException {
	return podidv1.AzurePodIdentityException{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ex"},
		Spec:       podidv1.AzurePodIdentityExceptionSpec{PodLabels: labels},
	}
}

func TestDesired(t *testing.T) {
	cases := map[string]struct {
		in Input
		// want lists "assignmentNamespace/assignmentName" of the desired set.
		want []string
		// findings lists "Kind/ns/name Reason" of the findings.
		findings []string
	}{
		"a labelled pod gets the identity its namespace's binding names": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv")},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			want: []string{"app/web-app-reader"},
		},
		"an unlabelled pod gets nothing and nothing is said": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "")},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
		},
		"a label no binding has is reported on the pod": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "typo")},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			findings: []string{"Pod/app/web " + ReasonNoBinding},
		},
		"a binding naming a missing identity is reported and gives nothing": {
			in: Input{
				Pods:     []Pod{pod("app", "web", "kv")},
				Bindings: []podidv1.AzureIdentityBinding{binding("app", "b", "gone", "kv")},
			},
			findings: []string{"AzureIdentityBinding/app/b " + ReasonIdentityNotFound},
		},
		"a binding serves only its own namespace by default": {
			in: Input{
				Pods:       []Pod{pod("other", "web", "kv")},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			findings: []string{"Pod/other/web " + ReasonOtherNamespace},
		},
		"cluster-wide bindings serve other namespaces, with a warning, in default": {
			in: Input{
				ClusterWide: true,
				Pods:        []Pod{pod("other", "web", "kv")},
				Identities:  []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:    []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			want:     []string{"default/web-other-reader"},
			findings: []string{"AzureIdentityBinding/app/b " + ReasonClusterWide},
		},
		"a namespaced identity stays in its namespace even cluster-wide": {
			in: Input{
				ClusterWide: true,
				Pods:        []Pod{pod("other", "web", "kv")},
				Identities:  []podidv1.AzureIdentity{identity("app", "reader", podidv1.BehaviorAnnotation, podidv1.BehaviorNamespaced)},
				Bindings:    []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			findings: []string{"Pod/other/web " + ReasonOtherNamespace},
		},
		"overlapping selectors give both identities and are reported on both bindings": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv")},
				Identities: []podidv1.AzureIdentity{identity("app", "a"), identity("app", "b")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "ba", "a", "kv"), binding("app", "bb", "b", "kv")},
			},
			want: []string{"app/web-app-a", "app/web-app-b"},
			findings: []string{
				"AzureIdentityBinding/app/ba " + ReasonOverlappingSelectors,
				"AzureIdentityBinding/app/bb " + ReasonOverlappingSelectors,
			},
		},
		"two bindings of one identity give it once and are not an overlap": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv")},
				Identities: []podidv1.AzureIdentity{identity("app", "a")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b1", "a", "kv"), binding("app", "b2", "a", "kv")},
			},
			want: []string{"app/web-app-a"},
		},
		"a host-network pod gets nothing and is told why": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv", func(p *Pod) { p.HostNetwork = true })},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			findings: []string{"Pod/app/web " + ReasonHostNetwork},
		},
		"a pod matched by an exception in its namespace passes through": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv", func(p *Pod) { p.Labels["app"] = "mic" })},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
				Exceptions: []podidv1.AzurePodIdentityException{exception("app", map[string]string{"app": "mic"})},
			},
			findings: []string{"Pod/app/web " + ReasonException},
		},
		"an exception in another namespace does not apply": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv", func(p *Pod) { p.Labels["app"] = "mic" })},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
				Exceptions: []podidv1.AzurePodIdentityException{exception("kube-system", map[string]string{"app": "mic"})},
			},
			want: []string{"app/web-app-reader"},
		},
		"an exception listing an empty value does not exempt a pod without that label": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv")},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
				Exceptions: []podidv1.AzurePodIdentityException{exception("app", map[string]string{"system": ""})},
			},
			want: []string{"app/web-app-reader"},
		},
		"an exception listing an empty value exempts a pod carrying that label empty": {
			in: Input{
				Pods:       []Pod{pod("app", "web", "kv", func(p *Pod) { p.Labels["system"] = "" })},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
				Exceptions: []podidv1.AzurePodIdentityException{exception("app", map[string]string{"system": ""})},
			},
			findings: []string{"Pod/app/web " + ReasonException},
		},
		"pods not on a node, finished or being deleted get nothing": {
			in: Input{
				Pods: []Pod{
					pod("app", "pending", "kv", func(p *Pod) { p.NodeName = ""; p.Phase = corev1.PodPending }),
					pod("app", "done", "kv", func(p *Pod) { p.Phase = corev1.PodSucceeded }),
					pod("app", "failed", "kv", func(p *Pod) { p.Phase = corev1.PodFailed }),
					pod("app", "leaving", "kv", func(p *Pod) { p.Deleting = true }),
					pod("app", "starting", "kv", func(p *Pod) { p.Phase = corev1.PodPending }),
				},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			want: []string{"app/starting-app-reader"},
		},
		"names too long for the API are shortened with a hash and stay distinct": {
			in: Input{
				Pods:       []Pod{pod("app", strings.Repeat("p", 250)+"1", "kv"), pod("app", strings.Repeat("p", 250)+"2", "kv")},
				Identities: []podidv1.AzureIdentity{identity("app", "reader")},
				Bindings:   []podidv1.AzureIdentityBinding{binding("app", "b", "reader", "kv")},
			},
			want: nil, // checked below
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := Desired(tc.in)
			var got []string
			for _, a := range res.Desired {
				got = append(got, a.Key())
				if len(a.Name) > maxNameLength {
					t.Errorf("name %q is %d characters, over %d", a.Name, len(a.Name), maxNameLength)
				}
			}
			var findings []string
			for _, f := range res.Findings {
				findings = append(findings, f.Object.Kind+"/"+f.Object.Namespace+"/"+f.Object.Name+" "+f.Reason)
				if f.Message == "" || !strings.HasSuffix(f.Message, ".") {
					t.Errorf("finding %s has no sentence: %q", f.Reason, f.Message)
				}
			}
			sort.Strings(findings)
			if strings.HasPrefix(name, "names too long") {
				if len(got) != 2 || got[0] == got[1] {
					t.Fatalf("want two distinct shortened names, got %v", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("desired = %v\nwant      %v", got, tc.want)
			}
			if !reflect.DeepEqual(findings, tc.findings) {
				t.Errorf("findings = %v\nwant       %v", findings, tc.findings)
			}
		})
	}
}

func TestDesiredIsDeterministic(t *testing.T) {
	in := Input{
		Pods:       []Pod{pod("app", "b", "kv"), pod("app", "a", "kv")},
		Identities: []podidv1.AzureIdentity{identity("app", "y"), identity("app", "x")},
		Bindings:   []podidv1.AzureIdentityBinding{binding("app", "by", "y", "kv"), binding("app", "bx", "x", "kv")},
	}
	first := Desired(in)
	for i := 0; i < 20; i++ {
		if got := Desired(in); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d differs from the first", i)
		}
	}
}
