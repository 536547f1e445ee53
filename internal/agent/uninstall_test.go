package agent

import (
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func TestRulesGoAtExit(t *testing.T) {
	const owner = types.UID("ds-1")
	ds := func(uid types.UID, deleting bool) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "podid-nmi", UID: uid}}
		if deleting {
			d.DeletionTimestamp = &metav1.Time{}
		}
		return d
	}
	gr := schema.GroupResource{Group: "apps", Resource: "daemonsets"}
	cases := []struct {
		name       string
		sawDeleted bool
		current    *appsv1.DaemonSet
		err        error
		want       bool
	}{
		{"restart, rollout or crash: the DaemonSet is there", false, ds(owner, false), nil, false},
		{"nothing seen, even if the API server cannot be asked", false, nil, errors.New("connection refused"), false},
		{"uninstall: gone", true, nil, apierrors.NewNotFound(gr, "podid-nmi"), true},
		{"uninstall: the agent's RoleBinding already went", true, nil, apierrors.NewForbidden(gr, "podid-nmi", errors.New("no")), true},
		{"uninstall: the agent's ServiceAccount already went", true, nil, apierrors.NewUnauthorized("token"), true},
		{"foreground deletion still in progress", true, ds(owner, true), nil, true},
		{"re-created under the same name: new agents come", true, ds("ds-2", false), nil, false},
		{"re-created but that one is being deleted too", true, ds("ds-2", true), nil, true},
		{"deleted, but the API server cannot say more", true, nil, errors.New("connection refused"), false},
	}
	for _, c := range cases {
		got, why := rulesGoAtExit(owner, c.sawDeleted, c.current, c.err)
		if got != c.want || why == "" {
			t.Errorf("%s: rules go %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}

func TestControllerDaemonSet(t *testing.T) {
	refs := []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "Node", Name: "n"},
		{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "other", UID: "x"}, // not the controller
		{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "podid-nmi", UID: "ds-1", Controller: ptr.To(true)},
	}
	if name, uid, ok := controllerDaemonSet(refs); !ok || name != "podid-nmi" || uid != "ds-1" {
		t.Errorf("controllerDaemonSet = %q %q %v", name, uid, ok)
	}
	if _, _, ok := controllerDaemonSet(refs[:2]); ok {
		t.Error("a pod without a controlling DaemonSet has none")
	}
	static := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: "n", Controller: ptr.To(true)}}
	if _, _, ok := controllerDaemonSet(static); ok {
		t.Error("a static pod (controlled by its Node) has no DaemonSet")
	}
}
