package migrate

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
)

// Gather reads what Decide needs from the cluster: pod identity's objects,
// every workload whose pod template carries the aadpodidbinding label (in
// namespace, or all namespaces when it is empty) and the service accounts.
// Objects a controller owns are represented by their owner, so a
// Deployment is patched once, not its ReplicaSets or pods.
func Gather(ctx context.Context, c client.Reader, namespace, issuer string, clusterWide bool) (Input, error) {
	in := Input{Issuer: issuer, ClusterWide: clusterWide}
	opts := []client.ListOption{}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	labelled := client.HasLabels{podidv1.SelectorLabel}

	var ids podidv1.AzureIdentityList
	if err := c.List(ctx, &ids, opts...); err != nil {
		return in, fmt.Errorf("list AzureIdentities: %w", err)
	}
	in.Identities = ids.Items
	var bs podidv1.AzureIdentityBindingList
	// Bindings of every namespace: with cluster-wide bindings one in
	// another namespace may serve the workloads in scope.
	if err := c.List(ctx, &bs); err != nil {
		return in, fmt.Errorf("list AzureIdentityBindings: %w", err)
	}
	in.Bindings = bs.Items
	if namespace != "" && clusterWide {
		var all podidv1.AzureIdentityList
		if err := c.List(ctx, &all); err != nil {
			return in, fmt.Errorf("list AzureIdentities: %w", err)
		}
		in.Identities = all.Items
	}

	add := func(kind string, m metav1.ObjectMeta, spec corev1.PodTemplateSpec) {
		if _, ok := spec.Labels[podidv1.SelectorLabel]; !ok || metav1.GetControllerOf(&m) != nil {
			return
		}
		in.Workloads = append(in.Workloads, Workload{Kind: kind, Namespace: m.Namespace, Name: m.Name, ServiceAccount: spec.Spec.ServiceAccountName, Labels: spec.Labels})
	}
	var deps appsv1.DeploymentList
	if err := c.List(ctx, &deps, opts...); err != nil {
		return in, fmt.Errorf("list Deployments: %w", err)
	}
	for _, d := range deps.Items {
		add("Deployment", d.ObjectMeta, d.Spec.Template)
	}
	var sts appsv1.StatefulSetList
	if err := c.List(ctx, &sts, opts...); err != nil {
		return in, fmt.Errorf("list StatefulSets: %w", err)
	}
	for _, s := range sts.Items {
		add("StatefulSet", s.ObjectMeta, s.Spec.Template)
	}
	var dss appsv1.DaemonSetList
	if err := c.List(ctx, &dss, opts...); err != nil {
		return in, fmt.Errorf("list DaemonSets: %w", err)
	}
	for _, d := range dss.Items {
		add("DaemonSet", d.ObjectMeta, d.Spec.Template)
	}
	var rss appsv1.ReplicaSetList
	if err := c.List(ctx, &rss, opts...); err != nil {
		return in, fmt.Errorf("list ReplicaSets: %w", err)
	}
	for _, r := range rss.Items {
		add("ReplicaSet", r.ObjectMeta, r.Spec.Template)
	}
	var jobs batchv1.JobList
	if err := c.List(ctx, &jobs, opts...); err != nil {
		return in, fmt.Errorf("list Jobs: %w", err)
	}
	for _, j := range jobs.Items {
		add("Job", j.ObjectMeta, j.Spec.Template)
	}
	var crons batchv1.CronJobList
	if err := c.List(ctx, &crons, opts...); err != nil {
		return in, fmt.Errorf("list CronJobs: %w", err)
	}
	for _, cj := range crons.Items {
		add("CronJob", cj.ObjectMeta, cj.Spec.JobTemplate.Spec.Template)
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, append(opts, labelled)...); err != nil {
		return in, fmt.Errorf("list Pods: %w", err)
	}
	for _, p := range pods.Items {
		add("Pod", p.ObjectMeta, corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec})
	}
	var sas corev1.ServiceAccountList
	if err := c.List(ctx, &sas, opts...); err != nil {
		return in, fmt.Errorf("list ServiceAccounts: %w", err)
	}
	for _, sa := range sas.Items {
		in.ServiceAccounts = append(in.ServiceAccounts, ServiceAccount{Namespace: sa.Namespace, Name: sa.Name, Annotations: sa.Annotations})
	}
	return in, nil
}
