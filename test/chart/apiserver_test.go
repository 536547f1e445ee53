package chart

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
}
