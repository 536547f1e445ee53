package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/podid/podid/internal/agent/netrules"
)

// The agent's rules outlive it (fail closed), with one exception: an
// uninstall. Once the DaemonSet that runs the agent is deleted no agent
// comes back, and rules left behind would keep every pod of the node from
// the node's IMDS for good. So, with --remove-rules-on-uninstall, the agent
// watches its own DaemonSet while it runs and removes its rules on exit
// only if it saw that DaemonSet deleted.
//
// Why a watch and not a look at exit: helm uninstall (and kubectl delete -f)
// deletes the agent's RoleBinding and ServiceAccount right after the
// DaemonSet, before the kubelet stops the agent, so at exit the agent may
// no longer be allowed to ask; an established watch still delivers the
// deletion.

// uninstallWatch records whether the agent's own DaemonSet was deleted.
type uninstallWatch struct {
	ns, name string
	owner    types.UID
	kube     kubernetes.Interface
	deleted  atomic.Bool
}

// controllerDaemonSet is the DaemonSet that controls a pod, from its owner
// references.
func controllerDaemonSet(refs []metav1.OwnerReference) (name string, uid types.UID, ok bool) {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller && r.Kind == "DaemonSet" && strings.HasPrefix(r.APIVersion, "apps/") {
			return r.Name, r.UID, true
		}
	}
	return "", "", false
}

// watchUninstall finds the DaemonSet of the agent's pod (namespace/name)
// and watches it until ctx ends. An agent that is not run by a DaemonSet
// (podid up's host processes) gets nil: its rules always stay.
func watchUninstall(ctx context.Context, kube kubernetes.Interface, pod string, log *slog.Logger) (*uninstallWatch, error) {
	ns, name, ok := strings.Cut(pod, "/")
	if !ok {
		return nil, fmt.Errorf("--remove-rules-on-uninstall needs the agent's pod: set POD_NAMESPACE and POD_NAME from the downward API")
	}
	ctx0, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p, err := kube.CoreV1().Pods(ns).Get(ctx0, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read the agent's pod %s to find its DaemonSet: %w", pod, err)
	}
	dsName, uid, ok := controllerDaemonSet(p.OwnerReferences)
	if !ok {
		log.Info("the agent's pod has no DaemonSet: its iptables rules stay on exit whatever happens", "pod", pod)
		return nil, nil
	}
	w := &uninstallWatch{ns: ns, name: dsName, owner: uid, kube: kube}
	f := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", dsName).String()
		}))
	inf := f.Apps().V1().DaemonSets().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { w.saw(obj, false) },
		DeleteFunc: func(obj any) { w.saw(obj, true) },
	}); err != nil {
		return nil, fmt.Errorf("watch DaemonSet %s/%s: %w", ns, dsName, err)
	}
	f.Start(ctx.Done())
	log.Info("watching the agent's DaemonSet: its deletion (an uninstall) removes the iptables rules on exit", "daemonset", ns+"/"+dsName)
	return w, nil
}

// saw notes a deletion, or an update that starts one (foreground deletion),
// of the agent's own DaemonSet.
func (w *uninstallWatch) saw(obj any, deleted bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok || ds.UID != w.owner {
		return
	}
	if deleted || ds.DeletionTimestamp != nil {
		w.deleted.Store(true)
	}
}

// removeAtExit decides, when the agent stops, whether its rules go.
func (w *uninstallWatch) removeAtExit(ctx context.Context) (bool, string) {
	if w == nil {
		return false, "not run by a DaemonSet"
	}
	var current *appsv1.DaemonSet
	var err error
	if w.deleted.Load() {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		current, err = w.kube.AppsV1().DaemonSets(w.ns).Get(ctx, w.name, metav1.GetOptions{})
	}
	return rulesGoAtExit(w.owner, w.deleted.Load(), current, err)
}

// rulesGoAtExit is the decision: the rules go only when the agent's own
// DaemonSet was seen deleted and no new DaemonSet of the same name (a
// re-created release) will start agents on the node again. NotFound, or a
// refusal (the uninstall already removed the agent's RoleBinding or
// ServiceAccount), confirms the uninstall; any other error keeps the rules.
func rulesGoAtExit(owner types.UID, sawDeleted bool, current *appsv1.DaemonSet, err error) (bool, string) {
	if !sawDeleted {
		return false, "the agent's DaemonSet still exists (a restart, rollout or crash)"
	}
	if err == nil && current != nil && current.UID != owner && current.DeletionTimestamp == nil {
		return false, "the agent's DaemonSet was replaced by a new one of the same name"
	}
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) && !apierrors.IsUnauthorized(err) {
		// In doubt the rules stay: closed, and `podid nmi cleanup` opens.
		return false, fmt.Sprintf("the agent's DaemonSet was deleted, but whether a new one replaces it is unknown (%v); if this is an uninstall, run podid nmi cleanup on the node", err)
	}
	return true, "the agent's DaemonSet was deleted (uninstall)"
}

// removeRulesIfUninstalled removes the rules as the agent exits if its
// DaemonSet was deleted, and says why they go or stay.
func removeRulesIfUninstalled(ctx context.Context, w *uninstallWatch, binary string, log *slog.Logger) {
	remove, why := w.removeAtExit(context.WithoutCancel(ctx))
	if !remove {
		log.Info("iptables rules stay", "reason", why)
		return
	}
	applier, err := netrules.NewApplier(binary)
	if err == nil {
		var removed []string
		if removed, err = applier.RemoveAll(); err == nil {
			log.Info("iptables rules removed", "reason", why, "chains", removed)
			return
		}
	}
	log.Error("removing the iptables rules at uninstall failed; run podid nmi cleanup on this node", "reason", why, "error", err)
}
