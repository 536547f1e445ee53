package wiwebhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/podid/podid/internal/wi"
)

// Paths the webhooks are served on. MutatePath is v1.6's.
const (
	MutatePath = "/mutate-v1-pod"
	WarnPath   = "/warn-v1-pod"
)

// ServiceAccountGetter finds a pod's ServiceAccount. The error is a
// Kubernetes API error, so apierrors.IsNotFound works on it.
type ServiceAccountGetter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
}

// decoder knows client-go's types, so an object that is no pod fails to
// decode instead of decoding into an empty one.
var decoder = admission.NewDecoder(clientgoscheme.Scheme)

// mutator is the handler of MutatePath.
type mutator struct {
	accounts ServiceAccountGetter
	config   Config
	metrics  *Metrics
}

var _ admission.Handler = (*mutator)(nil)

func (m *mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	resp := m.handle(ctx, req)
	result := mutateResult(resp)
	m.metrics.observe(webhookMutate, result, time.Since(start))
	log := logf.FromContext(ctx)
	switch result {
	case resultDenied, resultError:
		log.Info("pod refused", "result", result, "reason", resp.Result.Message)
	default:
		log.V(1).Info("pod injected", "result", result, "warnings", len(resp.Warnings))
	}
	return resp
}

func (m *mutator) handle(ctx context.Context, req admission.Request) admission.Response {
	pod := &corev1.Pod{}
	if err := decoder.Decode(req, pod); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode pod: %w", err))
	}
	saName := wi.ServiceAccountOf(&pod.Spec)
	sa, err := m.accounts.GetServiceAccount(ctx, req.Namespace, saName)
	if apierrors.IsNotFound(err) {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("%w (create service account %q in namespace %q before the pod, or name an existing one in spec.serviceAccountName)",
			err, saName, req.Namespace))
	}
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("get service account %s/%s: %w", req.Namespace, saName, err))
	}
	return mutationResponse(req.Object.Raw, Input{Pod: pod, Namespace: req.Namespace, ServiceAccount: sa, Config: m.config})
}

// mutationResponse admits the pod with a JSON patch from raw, the object
// as the API server sent it, to the mutated pod; or refuses it with the
// mutation's error (HTTP 400, as v1.6).
func mutationResponse(raw []byte, in Input) admission.Response {
	res, err := Mutate(in)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	mutated, err := json.Marshal(res.Pod)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("encode pod: %w", err))
	}
	return admission.PatchResponseFromRaw(raw, mutated).WithWarnings(res.Warnings...)
}

func mutateResult(resp admission.Response) string {
	switch {
	case resp.Allowed && len(resp.Warnings) > 0:
		return resultWarned
	case resp.Allowed:
		return resultMutated
	case resp.Result != nil && resp.Result.Code >= http.StatusInternalServerError:
		return resultError
	default:
		return resultDenied
	}
}

// advisor is the handler of WarnPath: it admits every pod, with warnings
// from Advise.
type advisor struct {
	accounts ServiceAccountGetter
	metrics  *Metrics
}

var _ admission.Handler = (*advisor)(nil)

func (a *advisor) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	warnings, err := a.warnings(ctx, req)
	result := resultAllowed
	if len(warnings) > 0 {
		result = resultWarned
	}
	if err != nil {
		// Never refuse: the warning webhook only helps.
		result = resultError
		logf.FromContext(ctx).Info("pod not examined", "error", err)
	}
	a.metrics.observe(webhookWarn, result, time.Since(start))
	return admission.Allowed("").WithWarnings(warnings...)
}

func (a *advisor) warnings(ctx context.Context, req admission.Request) ([]string, error) {
	if req.Operation != admissionv1.Create {
		return nil, nil
	}
	pod := &corev1.Pod{}
	if err := decoder.Decode(req, pod); err != nil {
		return nil, fmt.Errorf("decode pod: %w", err)
	}
	sa, err := a.accounts.GetServiceAccount(ctx, req.Namespace, wi.ServiceAccountOf(&pod.Spec))
	if err != nil {
		sa = nil
		if !apierrors.IsNotFound(err) {
			return Advise(pod, nil), fmt.Errorf("get service account: %w", err)
		}
	}
	return Advise(pod, sa), nil
}
