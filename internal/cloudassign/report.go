package cloudassign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	podidv1 "github.com/podid/podid/api/v1"
)

// Condition reasons written by the cloud worker besides ARM error codes.
const (
	ReasonOnMachine        = "AssignedToMachine"
	ReasonCloudUnavailable = "CloudUnavailable"
)

// report writes the burst's outcome into every assignment of the machine:
// Assigned once the identity is on it, Created with the cloud's reason and
// the fix otherwise, and releases finalizers whose clean-up is done.
func (c *Controller) report(ctx context.Context, t Target, r Report) error {
	assigned, err := c.assignmentsOn(ctx, t)
	if err != nil {
		return err
	}
	var errs []error
	for i := range assigned {
		a := &assigned[i] // the cache's own object: copy before changing it
		id := strings.ToLower(resourceID(a))
		if a.DeletionTimestamp != nil {
			if r.Released[id] && controllerutil.ContainsFinalizer(a, podidv1.AssignedIdentityFinalizer) {
				a = a.DeepCopy()
				controllerutil.RemoveFinalizer(a, podidv1.AssignedIdentityFinalizer)
				if err := c.Client.Update(ctx, a); client.IgnoreNotFound(err) != nil {
					errs = append(errs, fmt.Errorf("release AzureAssignedIdentity %s/%s: %w", a.Namespace, a.Name, err))
				}
			}
			continue
		}
		errs = append(errs, c.writeStatus(ctx, t, a, id, r))
	}
	return errors.Join(errs...)
}

// writeStatus leaves cached, the cache's object, untouched and writes a copy.
func (c *Controller) writeStatus(ctx context.Context, t Target, cached *podidv1.AzureAssignedIdentity, id string, r Report) error {
	status := *cached.Status.DeepCopy()
	// No observedGeneration: every status write bumps an assignment's
	// generation (see api/v1.AzureAssignedIdentity).
	cond := metav1.Condition{Type: "Ready", LastTransitionTime: metav1.NewTime(c.Clock.Now())}
	var warn *Failure
	switch f, refused := r.Refused[id]; {
	case r.OnMachine[id]:
		status.Status = podidv1.AssignedIDAssigned
		cond.Status, cond.Reason = metav1.ConditionTrue, ReasonOnMachine
		cond.Message = fmt.Sprintf("The identity is on %s %s; the pod gets tokens through the node's IMDS.", kindOf(t), t.Name)
	case refused:
		warn = &f
	case r.Blocked != nil:
		warn = r.Blocked
	default:
		return nil // not attempted yet
	}
	if warn != nil {
		status.Status = podidv1.AssignedIDCreated
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reasonOf(warn), warn.Message
	}
	changed := meta.SetStatusCondition(&status.Conditions, cond)
	if equality.Semantic.DeepEqual(status, cached.Status) {
		return nil
	}
	a := cached.DeepCopy()
	a.Status = status
	// No status subresource: see api/v1.AzureAssignedIdentity.
	if err := c.Client.Update(ctx, a); err != nil {
		return client.IgnoreNotFound(err)
	}
	if warn != nil && changed {
		c.warn(ctx, a, cond.Reason, cond.Message)
	}
	return nil
}

// warn puts the failure on the pod and on the identity, where users look.
// The pod is read for its UID, without which kubectl describe pod does not
// show the event; a pod that cannot be read still gets it by name.
func (c *Controller) warn(ctx context.Context, a *podidv1.AzureAssignedIdentity, reason, msg string) {
	pod := &corev1.Pod{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: a.Spec.PodNamespace, Name: a.Spec.Pod}, pod); err != nil {
		pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: a.Spec.PodNamespace, Name: a.Spec.Pod}}
	}
	c.Recorder.Event(pod, corev1.EventTypeWarning, reason, msg)
	if ref := a.Spec.AzureIdentityRef; ref != nil {
		c.Recorder.Event(&podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name, UID: ref.UID}}, corev1.EventTypeWarning, reason, msg)
	}
}

func reasonOf(f *Failure) string {
	if f.Code != "" {
		return f.Code
	}
	return ReasonCloudUnavailable
}

func kindOf(t Target) string {
	if t.ScaleSet {
		return "VMSS"
	}
	return "VM"
}
