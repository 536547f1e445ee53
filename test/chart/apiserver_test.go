package chart

import (
	"context"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"

	"github.com/podid/podid/internal/testenv"
)

// TestServerAcceptsEveryObject sends every object of every value set to a
// real API server (server-side dry run, strict field validation), as
// `kubectl apply --dry-run=server --validate=strict` would. The CRDs are the
// ones testenv installs, equal to the chart's by TestCRDsMatchConfig.
func TestServerAcceptsEveryObject(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	env := testenv.StartT(t, testenv.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := objects(t, mustRender(t, vs, false).Manifest)
			// Namespaces first: the release's and every identity's.
			for _, o := range objs {
				ns := o.GetNamespace()
				if ns == "" {
					continue
				}
				_, err := env.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					t.Fatalf("create namespace %s: %v", ns, err)
				}
			}
			for _, o := range objs {
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Errorf("%s %s: no API resource: %v", gvk.Kind, o.GetName(), err)
					continue
				}
				ri := env.Dynamic.Resource(m.Resource)
				opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict}
				if o.GetNamespace() != "" {
					_, err = ri.Namespace(o.GetNamespace()).Create(ctx, o, opts)
				} else {
					_, err = ri.Create(ctx, o, opts)
				}
				if err != nil {
					t.Errorf("%s %s/%s refused: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}
	t.Run("webhook RBAC", func(t *testing.T) { webhookAuthorized(ctx, t, env) })
}

// webhookAuthorized creates the workload-identity webhook's roles and
// bindings for real and asks the API server's RBAC authorizer what the
// webhook's ServiceAccount may do: its own certificate Secret and webhook
// configurations (list and watch by name, as its informers do), and
// nothing else.
func webhookAuthorized(ctx context.Context, t *testing.T, env *testenv.Env) {
	vs := valueSets[0]
	for _, o := range objects(t, mustRender(t, vs, false).Manifest) {
		if o.GetAPIVersion() != "rbac.authorization.k8s.io/v1" || !strings.HasPrefix(o.GetName(), wiWebhookName) {
			continue
		}
		res := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: strings.ToLower(o.GetKind()) + "s"}
		var err error
		if ns := o.GetNamespace(); ns != "" {
			_, err = env.Dynamic.Resource(res).Namespace(ns).Create(ctx, o, metav1.CreateOptions{})
		} else {
			_, err = env.Dynamic.Resource(res).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	user := "system:serviceaccount:" + vs.namespace + ":" + wiWebhookName
	tests := []struct {
		name string
		attr authorizationv1.ResourceAttributes
		want bool
	}{
		{"get its certificate Secret", authorizationv1.ResourceAttributes{Namespace: vs.namespace, Verb: "get", Resource: "secrets", Name: wiWebhookName + "-cert"}, true},
		{"update its certificate Secret", authorizationv1.ResourceAttributes{Namespace: vs.namespace, Verb: "update", Resource: "secrets", Name: wiWebhookName + "-cert"}, true},
		{"create a Secret", authorizationv1.ResourceAttributes{Namespace: vs.namespace, Verb: "create", Resource: "secrets"}, true},
		{"get another Secret", authorizationv1.ResourceAttributes{Namespace: vs.namespace, Verb: "get", Resource: "secrets", Name: "podid-mic-azure"}, false},
		{"list Secrets", authorizationv1.ResourceAttributes{Namespace: vs.namespace, Verb: "list", Resource: "secrets"}, false},
		{"get a Secret of another namespace", authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Resource: "secrets", Name: wiWebhookName + "-cert"}, false},
		{"watch ServiceAccounts", authorizationv1.ResourceAttributes{Verb: "watch", Resource: "serviceaccounts"}, true},
		{"watch its mutating configuration by name", authorizationv1.ResourceAttributes{Verb: "watch", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: wiWebhookName}, true},
		{"update its validating configuration", authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Name: wiWebhookName}, true},
		{"list every mutating configuration", authorizationv1.ResourceAttributes{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}, false},
		{"update another mutating configuration", authorizationv1.ResourceAttributes{Verb: "update", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Name: "other"}, false},
		{"read pods", authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods"}, false},
	}
	review := func(attr authorizationv1.ResourceAttributes) *authorizationv1.SubjectAccessReview {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + vs.namespace, "system:authenticated"},
			ResourceAttributes: &attr,
		}}
		got, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		return got
	}
	// The RBAC authorizer reads roles and bindings from its informers: wait
	// until it sees the ones just created (the first case is allowed then),
	// so that a refusal below is the roles' doing, not a stale cache.
	for deadline := time.Now().Add(10 * time.Second); !review(tests[0].attr).Status.Allowed; {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook may still not %s 10 s after its roles were created", tests[0].name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, tt := range tests {
		got := review(tt.attr)
		if got.Status.Allowed != tt.want {
			t.Errorf("webhook may %s: %v, want %v (%s)", tt.name, got.Status.Allowed, tt.want, got.Status.Reason)
		}
	}
}
