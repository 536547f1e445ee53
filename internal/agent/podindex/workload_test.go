package podindex

import (
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
	"github.com/podid/podid/internal/wi"
)

// wiPod is a pod as azure-workload-identity's webhook leaves it.
func wiPod(mod ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web-1", UID: "uid-1", Labels: map[string]string{wi.UseLabel: "true"}},
		Spec: corev1.PodSpec{
			ServiceAccountName: "web",
			Volumes: []corev1.Volume{{Name: "azure-identity-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: tokens.FederatedAudience, Path: "azure-identity-token"}}}}}}},
			Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{
				{Name: wi.EnvClientID, Value: "client-1"}, {Name: wi.EnvTenantID, Value: "tenant-1"},
				{Name: wi.EnvFederatedTokenFile, Value: "/var/run/secrets/azure/tokens/azure-identity-token"}}}},
		},
	}
	for _, m := range mod {
		m(p)
	}
	return p
}

func TestWorkloadIdentityOf(t *testing.T) {
	cases := map[string]struct {
		pod  *corev1.Pod
		want bool
	}{
		"a pod the webhook mutated":                  {pod: wiPod(), want: true},
		"the label missing":                          {pod: wiPod(func(p *corev1.Pod) { delete(p.Labels, wi.UseLabel) })},
		"the label not true":                         {pod: wiPod(func(p *corev1.Pod) { p.Labels[wi.UseLabel] = "false" })},
		"no projected token (labelled too late)":     {pod: wiPod(func(p *corev1.Pod) { p.Spec.Volumes = nil })},
		"a projected token for another audience":     {pod: wiPod(func(p *corev1.Pod) { p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Audience = "vault" })},
		"no client ID (service account unannotated)": {pod: wiPod(func(p *corev1.Pod) { p.Spec.Containers[0].Env = p.Spec.Containers[0].Env[1:] })},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			id, ok := workloadIdentityOf(c.pod, "/kubelet")
			if ok != c.want {
				t.Fatalf("workload identity pod = %v, want %v", ok, c.want)
			}
			if !ok {
				return
			}
			want := filepath.Join("/kubelet", "pods", "uid-1", "volumes", "kubernetes.io~projected", "azure-identity-token", "azure-identity-token")
			if id.AssertionFile != want || id.ClientID != "client-1" || id.TenantID != "tenant-1" || id.Name != "serviceaccount/apps/web" {
				t.Fatalf("identity %+v, want client-1 of tenant-1 for serviceaccount/apps/web reading %s", id, want)
			}
		})
	}
	if id, _ := workloadIdentityOf(wiPod(func(p *corev1.Pod) { p.Spec.ServiceAccountName = "" }), ""); id.Name != "serviceaccount/apps/default" || filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(id.AssertionFile))))) != filepath.Join(DefaultKubeletDir, "pods") {
		t.Fatalf("defaults: %+v", id)
	}
}

// TestWorkloadPodsChooseTheirDefaultIdentity pins what a workload-identity
// pod part-way through migration gets, through the server's selection.
func TestWorkloadAssignmentsMergeAndDefault(t *testing.T) {
	def, _ := workloadIdentityOf(wiPod(), "/kubelet")
	assigned := []server.Assigned{
		{Name: "apps/same", State: v1.AssignedIDAssigned, Identity: tokens.Identity{Name: "apps/id1", ClientID: "CLIENT-1", ResourceID: "/sub/rg/id1"}},
		{Name: "apps/other", State: v1.AssignedIDCreated, Identity: tokens.Identity{Name: "apps/id2", ClientID: "client-2", ResourceID: "/sub/rg/id2"}},
		{Name: "apps/gone", State: v1.AssignedIDUnassigned, Identity: tokens.Identity{Name: "apps/id3", ClientID: "client-3"}},
	}
	got := workloadAssignments(def, assigned)
	if len(got) != 2 {
		t.Fatalf("got %d entries, want the default (enriched by its assignment) and client-2: %+v", len(got), got)
	}
	if !got[0].Default || got[0].Identity.ResourceID != "/sub/rg/id1" || got[0].Identity.AssertionFile == "" {
		t.Fatalf("default entry %+v", got[0])
	}
	if got[1].Identity.ClientID != "client-2" || got[1].Identity.AssertionFile != def.AssertionFile || got[1].State != v1.AssignedIDAssigned {
		t.Fatalf("second entry %+v: want client-2 exchanged with the pod's own token, usable at once", got[1])
	}
}
