package assign

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
)

// Cache indexes, so that a change touches only the objects it concerns
// instead of scanning every pod. Each reconciler registers, in its Setup,
// every index it lists by (see useIndexes), so none depends on another
// having been set up first.
const (
	// indexSelector: pods by their aadpodidbinding label; bindings by selector.
	indexSelector = "podid.selector"
	// indexIdentity: bindings by the identity they name (namespace/name).
	indexIdentity = "podid.identity"
	// indexPod: assignments by their pod (namespace/name).
	indexPod = "podid.pod"
)

// index is one field index of one kind of object.
type index struct {
	obj  client.Object
	name string
	fn   client.IndexerFunc
}

var (
	podsBySelector = index{&corev1.Pod{}, indexSelector, func(o client.Object) []string {
		if v := o.GetLabels()[podidv1.SelectorLabel]; v != "" {
			return []string{v}
		}
		return nil
	}}
	bindingsBySelector = index{&podidv1.AzureIdentityBinding{}, indexSelector, func(o client.Object) []string {
		if s := o.(*podidv1.AzureIdentityBinding).Spec.Selector; s != "" {
			return []string{s}
		}
		return nil
	}}
	bindingsByIdentity = index{&podidv1.AzureIdentityBinding{}, indexIdentity, func(o client.Object) []string {
		b := o.(*podidv1.AzureIdentityBinding)
		return []string{b.Namespace + "/" + b.Spec.AzureIdentity}
	}}
	assignmentsByPod = index{&podidv1.AzureAssignedIdentity{}, indexPod, func(o client.Object) []string {
		a := o.(*podidv1.AzureAssignedIdentity)
		return []string{a.Spec.PodNamespace + "/" + a.Spec.Pod}
	}}
)

// Indexes each reconciler lists by. A test sets up each reconciler alone
// and checks that it works, so a lookup by an index missing here fails it.
var (
	reconcilerIndexes = []index{podsBySelector, bindingsBySelector, bindingsByIdentity, assignmentsByPod}
	bindingIndexes    = []index{bindingsBySelector, bindingsByIdentity}
)

// registered remembers the indexes already added to each manager's cache:
// a cache refuses a second indexer of the same name and kind, and both
// reconcilers need some of the same indexes.
var registered = struct {
	sync.Mutex
	m map[indexKey]bool
}{m: map[indexKey]bool{}}

type indexKey struct {
	mgr  ctrl.Manager
	kind reflect.Type
	name string
}

// useIndexes registers the given indexes with mgr's cache, each once
// however many reconcilers ask for it. It must run before mgr starts.
func useIndexes(ctx context.Context, mgr ctrl.Manager, idx ...index) error {
	registered.Lock()
	defer registered.Unlock()
	fi := mgr.GetFieldIndexer()
	for _, i := range idx {
		k := indexKey{mgr, reflect.TypeOf(i.obj), i.name}
		if registered.m[k] {
			continue
		}
		if err := fi.IndexField(ctx, i.obj, i.name, i.fn); err != nil {
			return fmt.Errorf("index %T by %s: %w", i.obj, i.name, err)
		}
		registered.m[k] = true
	}
	return nil
}
