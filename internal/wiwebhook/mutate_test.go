package wiwebhook

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podid/podid/internal/wi"
)

func testPod(annotations map[string]string, containers ...string) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{wi.UseLabel: "true"}, Annotations: annotations},
		Spec: corev1.PodSpec{ServiceAccountName: "workload"}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "img"})
	}
	return pod
}

func testSA(annotations map[string]string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "workload", Namespace: "apps", Annotations: annotations}}
}

func TestMutateRefusesBadExpiration(t *testing.T) {
	client := map[string]string{wi.ClientIDAnnotation: "c1"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{wi.ClientIDAnnotation: "c1"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := map[string]struct {
		pod, sa map[string]string
		// wantPrefix is v1.6's message (pkg/webhook/webhook.go,
		// getServiceAccountTokenExpiration); wantHint names the annotation's owner.
		wantPrefix, wantHint string
	}{
		"a pod expiration with a unit is no number": {
			pod: map[string]string{wi.TokenExpirationAnnotation: "3600s"}, sa: client,
			wantPrefix: `strconv.ParseInt: parsing "3600s": invalid syntax`, wantHint: `of pod "web"`,
		},
		"a service account expiration with a unit is no number": {
			sa:         with(map[string]string{wi.TokenExpirationAnnotation: "1h"}),
			wantPrefix: `strconv.ParseInt: parsing "1h": invalid syntax`, wantHint: `of service account "workload"`,
		},
		"one second under the minimum": {
			pod: map[string]string{wi.TokenExpirationAnnotation: "3599"}, sa: client,
			wantPrefix: "token expiration 3599 not valid. Expected value to be between 3600 and 86400", wantHint: `of pod "web"`,
		},
		"one second over the maximum": {
			sa:         with(map[string]string{wi.TokenExpirationAnnotation: "86401"}),
			wantPrefix: "token expiration 86401 not valid. Expected value to be between 3600 and 86400", wantHint: `of service account "workload"`,
		},
		"a bad pod value is refused even when the service account's is good": {
			pod: map[string]string{wi.TokenExpirationAnnotation: "0"}, sa: with(map[string]string{wi.TokenExpirationAnnotation: "4800"}),
			wantPrefix: "token expiration 0 not valid.", wantHint: `of pod "web"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Mutate(Input{Pod: testPod(tc.pod, "app"), Namespace: "apps", ServiceAccount: testSA(tc.sa), Config: goldenConfig})
			if err == nil {
				t.Fatal("pod admitted")
			}
			if !strings.HasPrefix(err.Error(), tc.wantPrefix) {
				t.Errorf("error %q does not start with v1.6's %q", err, tc.wantPrefix)
			}
			if !strings.Contains(err.Error(), tc.wantHint) || !strings.Contains(err.Error(), wi.TokenExpirationAnnotation) {
				t.Errorf("error %q does not say which annotation (%s) to fix", err, tc.wantHint)
			}
		})
	}
}

func TestMutateExpirationBounds(t *testing.T) {
	for _, v := range []string{"3600", "86400", ""} {
		res, err := Mutate(Input{Pod: testPod(map[string]string{wi.TokenExpirationAnnotation: v}, "app"), ServiceAccount: testSA(nil), Config: goldenConfig})
		if err != nil {
			t.Fatalf("expiration %q refused: %v", v, err)
		}
		got := *res.Pod.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds
		want := map[string]int64{"3600": 3600, "86400": 86400, "": DefaultTokenExpiration}[v]
		if got != want {
			t.Errorf("expiration %q: token lives %d s, want %d", v, got, want)
		}
	}
}

func TestMutateLeavesInputAlone(t *testing.T) {
	pod := testPod(nil, "app")
	if _, err := Mutate(Input{Pod: pod, ServiceAccount: testSA(nil), Config: goldenConfig}); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.Containers[0].Env) != 0 || len(pod.Spec.Volumes) != 0 {
		t.Errorf("Mutate changed its input: %+v", pod.Spec)
	}
}

func TestMutateAudience(t *testing.T) {
	cfg := goldenConfig
	cfg.Audience = "api://AzureADTokenExchangeChina"
	res, err := Mutate(Input{Pod: testPod(nil, "app"), ServiceAccount: testSA(nil), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Pod.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Audience; got != cfg.Audience {
		t.Errorf("audience %q, want the configured %q", got, cfg.Audience)
	}
}

func TestMutateWarnings(t *testing.T) {
	tests := map[string]struct {
		pod map[string]string
		sa  map[string]string
		// want are substrings, one per expected warning, in order.
		want []string
	}{
		"a complete service account gives no warning": {
			sa: map[string]string{wi.ClientIDAnnotation: "c1"},
		},
		"no client-id: the SDK cannot pick an identity": {
			want: []string{`service account "workload" has no azure.workload.identity/client-id annotation, so AZURE_CLIENT_ID is not set`},
		},
		"an empty tenant-id hides the webhook's tenant": {
			sa:   map[string]string{wi.ClientIDAnnotation: "c1", wi.TenantIDAnnotation: ""},
			want: []string{"empty azure.workload.identity/tenant-id annotation, so AZURE_TENANT_ID is not set"},
		},
		"skip-containers separated by commas skips nothing": {
			pod:  map[string]string{wi.SkipContainersAnnotation: "app,sidecar"},
			sa:   map[string]string{wi.ClientIDAnnotation: "c1"},
			want: []string{`names "app,sidecar", which the pod has no container`},
		},
		"the proxy sidecar is not injected": {
			pod:  map[string]string{wi.InjectProxySidecarAnnotation: "true"},
			sa:   map[string]string{wi.ClientIDAnnotation: "c1"},
			want: []string{"podid injects no proxy sidecar"},
		},
		"client-id on the pod is not read": {
			pod: map[string]string{wi.ClientIDAnnotation: "c1"},
			want: []string{"has no azure.workload.identity/client-id annotation",
				`pod "web" has the annotation azure.workload.identity/client-id, which is read from the pod's service account only: move it to service account "workload"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := Mutate(Input{Pod: testPod(tc.pod, "app", "sidecar"), ServiceAccount: testSA(tc.sa), Config: goldenConfig})
			if err != nil {
				t.Fatal(err)
			}
			assertWarnings(t, res.Warnings, tc.want)
		})
	}
}

func assertWarnings(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d warnings, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("warning %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

func TestAdvise(t *testing.T) {
	unlabelled := func(labels, annotations map[string]string) *corev1.Pod {
		p := testPod(annotations, "app")
		p.Labels = labels
		return p
	}
	labelledSA := testSA(nil)
	labelledSA.Labels = map[string]string{wi.UseLabel: "true"}
	tests := map[string]struct {
		pod  *corev1.Pod
		sa   *corev1.ServiceAccount
		want []string
	}{
		"a pod with no workload identity at all": {
			pod: unlabelled(nil, nil), sa: testSA(nil),
		},
		"the service account is annotated but the pod is not labelled": {
			pod: unlabelled(nil, nil), sa: testSA(map[string]string{wi.ClientIDAnnotation: "c1"}),
			want: []string{`service account "workload" has the annotation azure.workload.identity/client-id but pod "web" lacks the label azure.workload.identity/use: "true"`},
		},
		"the pod has workload identity annotations but no label": {
			pod:  unlabelled(nil, map[string]string{wi.SkipContainersAnnotation: "x", wi.TokenExpirationAnnotation: "3600"}),
			want: []string{`has the annotation azure.workload.identity/service-account-token-expiration, azure.workload.identity/skip-containers but not the label`},
		},
		"use written as an annotation": {
			pod:  unlabelled(nil, map[string]string{wi.UseLabel: "true"}),
			want: []string{"has azure.workload.identity/use as an annotation, where it selects nothing"},
		},
		"label value True is case-sensitive": {
			pod:  unlabelled(map[string]string{wi.UseLabel: "True"}, nil),
			want: []string{`label azure.workload.identity/use is "True", not "true"`},
		},
		"label value false opts out in silence": {
			pod: unlabelled(map[string]string{wi.UseLabel: "false"}, nil), sa: testSA(map[string]string{wi.ClientIDAnnotation: "c1"}),
		},
		"the v0.x label on the service account": {
			pod: unlabelled(nil, nil), sa: labelledSA,
			want: []string{`service account "workload" has the label azure.workload.identity/use, which selects nothing since workload identity v1.0`},
		},
		"unknown service account: the pod alone is examined": {
			pod:  unlabelled(nil, map[string]string{wi.InjectProxySidecarAnnotation: "true"}),
			want: []string{"azure.workload.identity/inject-proxy-sidecar but not the label"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assertWarnings(t, Advise(tc.pod, tc.sa), tc.want)
		})
	}
}
