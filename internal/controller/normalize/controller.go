package normalize

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	podidv1 "github.com/podid/podid/api/v1"
)

// Kinds are the kinds this controller normalises.
var Kinds = []string{
	podidv1.KindAzureIdentity,
	podidv1.KindAzureIdentityBinding,
	podidv1.KindAzurePodIdentityException,
}

type reconciler struct {
	kind string
	// reader is the manager's cache: the controller's own watch already
	// holds every object, and the manager's client would read unstructured
	// objects from the API server, one GET per event.
	reader      client.Reader
	client      client.Client
	recorder    record.EventRecorder
	defaultMode string
}

var _ reconcile.Reconciler = &reconciler{}

// Setup registers one controller per kind with the manager. defaultTokenMode
// is the cluster's, which decides what an identity needs (see
// AzureIdentity.Problems).
func Setup(mgr ctrl.Manager, defaultTokenMode string) error {
	for _, kind := range Kinds {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(podidv1.GroupVersion.WithKind(kind))
		r := &reconciler{kind: kind, reader: mgr.GetCache(), client: mgr.GetClient(), recorder: mgr.GetEventRecorderFor("podid-mic"), defaultMode: defaultTokenMode}
		err := ctrl.NewControllerManagedBy(mgr).
			Named("normalize-" + strings.ToLower(kind)).
			For(u).
			Complete(r)
		if err != nil {
			return fmt.Errorf("set up normalize controller for %s: %w", kind, err)
		}
	}
	return nil
}

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	logger := log.FromContext(ctx).WithValues(strings.ToLower(r.kind), req.NamespacedName)
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(podidv1.GroupVersion.WithKind(r.kind))
	if err := r.reader.Get(ctx, req.NamespacedName, u); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if u.GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	res := podidv1.NormalizeObject(r.kind, u.Object)
	if res.Changed() {
		if err := r.client.Update(ctx, u); err != nil {
			if apierrors.IsConflict(err) {
				return reconcile.Result{Requeue: true}, nil
			}
			return reconcile.Result{}, fmt.Errorf("update %s %s with canonical field names: %w", r.kind, req.NamespacedName, err)
		}
		logger.Info("normalized legacy field names", "renamed", len(res.Renamed))
		r.recorder.Event(u, "Normal", ReasonNormalized, renamedMessage(res.Renamed))
	}
	for _, p := range res.Problems() {
		r.recorder.Event(u, "Warning", ReasonFieldConflict, p)
	}
	if r.kind == podidv1.KindAzureIdentity && len(res.Conflicts) == 0 {
		if err := r.checkIdentity(u); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, nil
}

// checkIdentity warns about fields an identity's type needs and lacks, and
// about a token-mode annotation that is not a mode.
func (r *reconciler) checkIdentity(u *unstructured.Unstructured) error {
	var id podidv1.AzureIdentity
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &id); err != nil {
		// Cannot happen for objects the CRD schema admitted; say so if it does.
		r.recorder.Event(u, "Warning", ReasonIncompleteIdentity, fmt.Sprintf("spec cannot be read: %v", err))
		return nil
	}
	for _, p := range id.Problems(r.defaultMode) {
		r.recorder.Event(u, "Warning", ReasonIncompleteIdentity, p.String())
	}
	if p, ok := id.TokenModeProblem(r.defaultMode); ok {
		r.recorder.Event(u, "Warning", ReasonInvalidTokenMode, p.String())
	}
	return nil
}

func renamedMessage(rs []podidv1.Rename) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.From+" to "+r.To)
	}
	return "Moved values written with older aad-pod-identity field names to their current names: " + strings.Join(parts, ", ") + "."
}
