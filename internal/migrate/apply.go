package migrate

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podid/podid/internal/wi"
)

// CredentialWriter creates (or replaces) a federated identity credential in
// the cloud: the embedded cloud's admin API, or Resource Manager.
type CredentialWriter interface {
	PutFederatedCredential(ctx context.Context, c Credential) error
}

// Apply carries out p in order: credentials first (so a token exchanged
// by a new pod is trusted), then service accounts, then the workloads'
// templates (which roll their pods). It stops at the first error; every
// step is idempotent, so running migrate again resumes. Bare pods and Jobs
// are not touched (their templates are immutable): the plan's notes say to
// recreate them.
func Apply(ctx context.Context, c client.Client, creds CredentialWriter, p Plan, log func(string)) error {
	for _, cr := range p.Credentials {
		if err := creds.PutFederatedCredential(ctx, cr); err != nil {
			return fmt.Errorf("create federated credential %s for %s: %w", cr.Name, cr.Identity, err)
		}
		log(fmt.Sprintf("federated credential %s: %s trusts %s", cr.Name, cr.Identity, cr.Subject))
	}
	for _, a := range p.Accounts {
		if err := applyAccount(ctx, c, a); err != nil {
			return err
		}
		log(fmt.Sprintf("service account %s/%s: %s=%s", a.Namespace, a.Name, wi.ClientIDAnnotation, a.ClientID))
	}
	for _, w := range p.Workloads {
		if w.Recreate {
			continue
		}
		obj, err := workloadObject(w)
		if err != nil {
			return err
		}
		patch, err := json.Marshal(TemplatePatch(w))
		if err != nil {
			return fmt.Errorf("encode patch of %s %s/%s: %w", w.Kind, w.Namespace, w.Name, err)
		}
		if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("label the pod template of %s %s/%s: %w", w.Kind, w.Namespace, w.Name, err)
		}
		log(fmt.Sprintf("%s %s/%s: pod template labelled %s=true", w.Kind, w.Namespace, w.Name, wi.UseLabel))
	}
	return nil
}

func applyAccount(ctx context.Context, c client.Client, a AccountChange) error {
	ann := map[string]string{wi.ClientIDAnnotation: a.ClientID}
	if a.TenantID != "" {
		ann[wi.TenantIDAnnotation] = a.TenantID
	}
	if a.Create {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: a.Name, Annotations: ann}}
		err := c.Create(ctx, sa)
		if err == nil {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create service account %s/%s: %w", a.Namespace, a.Name, err)
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	if err != nil {
		return fmt.Errorf("encode annotations: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: a.Namespace, Name: a.Name}}
	if err := c.Patch(ctx, sa, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("annotate service account %s/%s: %w", a.Namespace, a.Name, err)
	}
	return nil
}

func workloadObject(w WorkloadChange) (client.Object, error) {
	m := metav1.ObjectMeta{Namespace: w.Namespace, Name: w.Name}
	switch w.Kind {
	case "Deployment":
		return &appsv1.Deployment{ObjectMeta: m}, nil
	case "StatefulSet":
		return &appsv1.StatefulSet{ObjectMeta: m}, nil
	case "DaemonSet":
		return &appsv1.DaemonSet{ObjectMeta: m}, nil
	case "ReplicaSet":
		return &appsv1.ReplicaSet{ObjectMeta: m}, nil
	case "Job":
		return &batchv1.Job{ObjectMeta: m}, nil
	case "CronJob":
		return &batchv1.CronJob{ObjectMeta: m}, nil
	}
	return nil, fmt.Errorf("migrate cannot patch a %s (%s/%s)", w.Kind, w.Namespace, w.Name)
}
