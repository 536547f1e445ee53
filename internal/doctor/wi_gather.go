package doctor

import (
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// gatherWI reads what workload identity depends on: every ServiceAccount,
// the MutatingWebhookConfigurations and, for each service-backed webhook
// that selects labelled pods, its Service, the ready endpoints behind it
// and the Deployments (of deps) whose pods it selects. Like Gather, it
// records what it cannot read in f.Problems.
func gatherWI(ctx context.Context, c client.Reader, f *Facts, deps []appsv1.Deployment) {
	var sas corev1.ServiceAccountList
	if err := c.List(ctx, &sas); err != nil {
		f.Problems = append(f.Problems, fmt.Sprintf("could not list ServiceAccounts: %v", err))
	} else {
		f.WI.ServiceAccounts = sas.Items
	}
	var hooks admissionregistrationv1.MutatingWebhookConfigurationList
	if err := c.List(ctx, &hooks); err != nil {
		f.Problems = append(f.Problems, fmt.Sprintf("could not list MutatingWebhookConfigurations: %v", err))
		return
	}
	f.WI.Webhooks = hooks.Items
	f.WI.Backends = map[string]WebhookBackend{}
	for _, h := range selectingWebhooks(f) {
		svc := h.hook.ClientConfig.Service
		if svc == nil {
			continue
		}
		k := key(svc.Namespace, svc.Name)
		if _, done := f.WI.Backends[k]; !done {
			f.WI.Backends[k] = webhookBackend(ctx, c, svc.Namespace, svc.Name, deps)
		}
	}
}

// webhookBackend reads one webhook Service and what stands behind it.
func webhookBackend(ctx context.Context, c client.Reader, ns, name string, deps []appsv1.Deployment) WebhookBackend {
	var svc corev1.Service
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &svc); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return WebhookBackend{}
		}
		return WebhookBackend{Err: fmt.Sprintf("get Service %s/%s: %v", ns, name, err)}
	}
	b := WebhookBackend{Exists: true, ReadyEndpoints: -1}
	var slices discoveryv1.EndpointSliceList
	if err := c.List(ctx, &slices, client.InNamespace(ns), client.MatchingLabels{discoveryv1.LabelServiceName: name}); err == nil {
		b.ReadyEndpoints = 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				// An endpoint without a condition counts as ready.
				if e.Conditions.Ready == nil || *e.Conditions.Ready {
					b.ReadyEndpoints++
				}
			}
		}
	}
	if len(svc.Spec.Selector) == 0 {
		return b
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, d := range deps {
		if d.Namespace == ns && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			b.Workloads = append(b.Workloads, Workload{Object: Object("Deployment", d.Namespace, d.Name), Desired: ptrOr(d.Spec.Replicas, 1), Ready: d.Status.ReadyReplicas})
		}
	}
	return b
}
