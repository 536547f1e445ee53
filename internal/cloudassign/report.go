package cloudassign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
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
		wrote, err := c.writeStatus(ctx, t, a, id, r)
		if err == nil && !wrote {
			err = c.recordMachine(ctx, t, a)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// recordMachine writes the machine on the assignment
// (podidv1.MachineAnnotation), so that its identity can be released from
// it even after its node is deleted; writeStatus writes it with a status.
// cached is the cache's object: it is left untouched.
func (c *Controller) recordMachine(ctx context.Context, t Target, cached *podidv1.AzureAssignedIdentity) error {
	if strings.EqualFold(cached.Annotations[podidv1.MachineAnnotation], t.ID) {
		return nil
	}
	a := cached.DeepCopy()
	metav1.SetMetaDataAnnotation(&a.ObjectMeta, podidv1.MachineAnnotation, t.ID)
	if err := c.Client.Patch(ctx, a, client.MergeFrom(cached)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("record machine on AzureAssignedIdentity %s/%s: %w", a.Namespace, a.Name, err)
	}
	return nil
}

// writeStatus leaves cached, the cache's object, untouched and writes a
// copy. It writes only statuses the hand-off rule gives the cloud worker
// (assignstatus.Owner), and with one the machine (recordMachine); wrote
// reports whether it wrote.
func (c *Controller) writeStatus(ctx context.Context, t Target, cached *podidv1.AzureAssignedIdentity, id string, r Report) (wrote bool, err error) {
	if assignstatus.Owner(cached.Status, assignstatus.NeedsCloud(cached)) != assignstatus.CloudWorker {
		return false, nil
	}
	now := metav1.NewTime(c.Clock.Now())
	var (
		status  podidv1.AzureAssignedIdentityStatus
		changed bool
		failure *assignstatus.CloudFailure
	)
	switch f, refused := r.Refused[id]; {
	case r.OnMachine[id]:
		status, changed = assignstatus.OnMachine(cached.Status, kindOf(t)+" "+t.Name, now)
	case refused:
		failure = cloudFailure(f, false)
	case r.Blocked != nil:
		failure = cloudFailure(*r.Blocked, !r.MachineRead)
	default:
		return false, nil // not attempted yet
	}
	if failure != nil {
		status, changed = assignstatus.Failed(cached.Status, *failure, now)
	}
	if equality.Semantic.DeepEqual(status, cached.Status) {
		return false, nil
	}
	a := cached.DeepCopy()
	a.Status = status
	metav1.SetMetaDataAnnotation(&a.ObjectMeta, podidv1.MachineAnnotation, t.ID)
	// No status subresource: see api/v1.AzureAssignedIdentity.
	if err := c.Client.Update(ctx, a); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if failure != nil && changed {
		c.warn(ctx, a, failure.EventReason(), failure.Text())
	}
	return true, nil
}

// cloudFailure is what assignstatus needs to know of f.
func cloudFailure(f Failure, machineUnknown bool) *assignstatus.CloudFailure {
	return &assignstatus.CloudFailure{Code: f.Code, Unavailable: f.Unavailable(), Message: f.Message, MachineUnknown: machineUnknown}
}

// warn puts the failure on the pod and on the identity, where users look.
// The event reason is ARM's code when there is one (see package
// assignstatus). The pod is read for its UID, without which kubectl
// describe pod does not show the event; a pod that cannot be read still
// gets it by name.
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

func kindOf(t Target) string {
	if t.ScaleSet {
		return "VMSS"
	}
	return "VM"
}
