package v1

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBindingSelects(t *testing.T) {
	now := metav1.Now()
	b := func(sel string) *AzureIdentityBinding {
		return &AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "b"},
			Spec: AzureIdentityBindingSpec{AzureIdentity: "id", Selector: sel}}
	}
	deleting := b("kv")
	deleting.DeletionTimestamp = &now
	cases := map[string]struct {
		b      *AzureIdentityBinding
		labels map[string]string
		want   bool
	}{
		"a pod labelled with the selector is selected":         {b: b("kv"), labels: map[string]string{SelectorLabel: "kv"}, want: true},
		"a pod with another label value is not selected":       {b: b("kv"), labels: map[string]string{SelectorLabel: "other"}},
		"a pod without the label is not selected":              {b: b("kv"), labels: map[string]string{"app": "kv"}},
		"a binding without selector selects no pod":            {b: b(""), labels: map[string]string{SelectorLabel: ""}},
		"a binding being deleted selects no pod":               {b: deleting, labels: map[string]string{SelectorLabel: "kv"}},
		"a missing binding selects no pod":                     {labels: map[string]string{SelectorLabel: "kv"}},
		"the selector is compared as a string, not a selector": {b: b("app=kv"), labels: map[string]string{SelectorLabel: "kv", "app": "kv"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := BindingSelects(tc.b, tc.labels); got != tc.want {
				t.Fatalf("BindingSelects = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBindingServes(t *testing.T) {
	b := &AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "b"},
		Spec: AzureIdentityBindingSpec{AzureIdentity: "id", Selector: "kv"}}
	id := &AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "id"}}
	namespaced := id.DeepCopy()
	namespaced.Annotations = map[string]string{BehaviorAnnotation: BehaviorNamespaced}
	cases := map[string]struct {
		id          *AzureIdentity
		podNS       string
		clusterWide bool
		want        bool
	}{
		"a binding serves pods of its own namespace":                         {id: id, podNS: "app", want: true},
		"a binding does not serve pods of another namespace":                 {id: id, podNS: "other"},
		"with cluster-wide bindings it serves pods of another namespace":     {id: id, podNS: "other", clusterWide: true, want: true},
		"a namespaced identity stays in its namespace even cluster-wide":     {id: namespaced, podNS: "other", clusterWide: true},
		"a namespaced identity still serves its own namespace":               {id: namespaced, podNS: "app", want: true},
		"cluster-wide, a binding whose identity is missing still counts":     {podNS: "other", clusterWide: true, want: true},
		"without cluster-wide, a missing identity changes nothing elsewhere": {podNS: "other"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := BindingServes(b, tc.id, tc.podNS, tc.clusterWide); got != tc.want {
				t.Fatalf("BindingServes = %v, want %v", got, tc.want)
			}
		})
	}
}
