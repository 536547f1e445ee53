package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podid/podid/internal/doctor"
)

// TestLintStrict is `helm lint --strict` for every value set.
func TestLintStrict(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			vals := map[string]any{}
			if err := yamlUnmarshal(vs.values, &vals); err != nil {
				t.Fatal(err)
			}
			res := lint.AllWithKubeVersion(chartDir, vals, vs.namespace, kubeVersion)
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}

// TestCRDsMatchConfig keeps the chart's crds/ equal to the generated CRDs.
func TestCRDsMatchConfig(t *testing.T) {
	list := func(dir string) []string {
		names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range names {
			names[i] = filepath.Base(names[i])
		}
		return names
	}
	chartCRDs, generated := list("../../charts/podid/crds"), list("../../config/crd")
	if !slices.Equal(chartCRDs, generated) {
		t.Fatalf("charts/podid/crds holds %v, config/crd holds %v: copy config/crd/*.yaml into charts/podid/crds", chartCRDs, generated)
	}
	for _, name := range generated {
		a, _ := os.ReadFile(filepath.Join("../../config/crd", name))
		b, _ := os.ReadFile(filepath.Join("../../charts/podid/crds", name))
		if !bytes.Equal(a, b) {
			t.Errorf("charts/podid/crds/%s differs from config/crd/%[1]s: cp config/crd/%[1]s charts/podid/crds/", name)
		}
	}
}

// clusterRole finds a rendered ClusterRole or Role by name.
func role(t *testing.T, manifest, kind, name string) *rbacv1.ClusterRole {
	t.Helper()
	for _, o := range objects(t, manifest) {
		if o.GetKind() == kind && o.GetName() == name {
			r := &rbacv1.ClusterRole{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, r); err != nil {
				t.Fatalf("decode %s %s: %v", kind, name, err)
			}
			return r
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// TestDoctorRoleIsReadRules: the chart grants the doctor exactly what it reads.
func TestDoctorRoleIsReadRules(t *testing.T) {
	r := mustRender(t, valueSets[0], false)
	got := role(t, r.Manifest, "ClusterRole", doctor.ReadRoleName)
	if !reflect.DeepEqual(got.Rules, doctor.ReadRules) {
		t.Errorf("ClusterRole %s rules\n  %v\nwant doctor.ReadRules\n  %v", doctor.ReadRoleName, got.Rules, doctor.ReadRules)
	}
}

// TestAgentCannotWriteAssignments: the agent's roles only read pod identity
// objects, whatever the values.
func TestAgentCannotWriteAssignments(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := mustRender(t, vs, false)
			for _, ref := range [][2]string{{"ClusterRole", "podid-nmi"}, {"Role", "podid-nmi"}} {
				for _, rule := range role(t, r.Manifest, ref[0], ref[1]).Rules {
					for _, g := range rule.APIGroups {
						if g != "aadpodidentity.k8s.io" && g != "*" {
							continue
						}
						for _, v := range rule.Verbs {
							if v != "get" && v != "list" && v != "watch" {
								t.Errorf("%s %s lets the agent %s %v", ref[0], ref[1], v, rule.Resources)
							}
						}
					}
				}
			}
		})
	}
}

// allows reports whether rules grant verb on the named resource of group,
// as RBAC evaluates them: "*" matches anything, and empty resourceNames
// match every name.
func allows(rules []rbacv1.PolicyRule, verb, group, resource, name string) bool {
	match := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	for _, r := range rules {
		if match(r.Verbs, verb) && match(r.APIGroups, group) && match(r.Resources, resource) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
			return true
		}
	}
	return false
}

// TestWebhookCannotReadOtherSecrets: the workload-identity webhook reads
// and renews its own certificate Secret and no other, and writes only its
// own webhook configurations, whatever the values.
func TestWebhookCannotReadOtherSecrets(t *testing.T) {
	const name = "podid-wi-webhook"
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := mustRender(t, vs, false)
			cluster := role(t, r.Manifest, "ClusterRole", name).Rules
			local := role(t, r.Manifest, "Role", name+"-cert").Rules
			for _, verb := range []string{"get", "list", "watch", "update", "patch", "delete"} {
				if allows(cluster, verb, "", "secrets", "other") {
					t.Errorf("ClusterRole %s lets the webhook %s Secrets in every namespace", name, verb)
				}
				if allows(local, verb, "", "secrets", "other") {
					t.Errorf("Role %s-cert lets the webhook %s other Secrets", name, verb)
				}
			}
			for _, verb := range []string{"get", "update", "create"} {
				if !allows(local, verb, "", "secrets", name+"-cert") {
					t.Errorf("Role %s-cert does not let the webhook %s its certificate Secret", name, verb)
				}
			}
			for _, res := range []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"} {
				for _, verb := range []string{"get", "list", "watch", "update"} {
					if !allows(cluster, verb, "admissionregistration.k8s.io", res, name) {
						t.Errorf("ClusterRole %s does not let the webhook %s its %s", name, verb, res)
					}
				}
				for _, verb := range []string{"get", "update", "patch", "delete"} {
					if allows(cluster, verb, "admissionregistration.k8s.io", res, "other") {
						t.Errorf("ClusterRole %s lets the webhook %s other %s", name, verb, res)
					}
				}
			}
			for _, verb := range []string{"create", "update", "patch", "delete"} {
				if allows(cluster, verb, "", "serviceaccounts", "any") {
					t.Errorf("ClusterRole %s lets the webhook %s ServiceAccounts", name, verb)
				}
			}
		})
	}
}

// TestSchemaRefusals: bad values fail the install with a message that names
// the value and what it may be.
func TestSchemaRefusals(t *testing.T) {
	tests := []struct {
		name   string
		values string
		want   []string
	}{
		{"an operationMode aad-pod-identity never had", "operationMode: legacy", []string{"operationMode", "standard", "managed"}},
		{"an unknown token mode", "tokenMode: imds", []string{"tokenMode", "federated", "node"}},
		{"operationMode and tokenMode disagree", "operationMode: managed\ntokenMode: federated", []string{"means tokenMode node", "unset operationMode"}},
		{"standard mode without an ARM endpoint", "operationMode: standard", []string{"set mic.cloud.armEndpoint"}},
		{"managed mode with an ARM endpoint", "operationMode: managed\nmic:\n  cloud:\n    armEndpoint: https://management.azure.com/", []string{"unset mic.cloud.armEndpoint"}},
		{"an ARM endpoint over http", "mic:\n  cloud:\n    armEndpoint: http://management.azure.com/", []string{"armEndpoint"}},
		{"iptables without pod CIDRs", "nmi:\n  podCIDRs: []", []string{"nmi.manageIPTables needs nmi.podCIDRs"}},
		{"a pod CIDR without a prefix length", "nmi:\n  podCIDRs: [10.244.0.0]", []string{"podCIDRs"}},
		{"a host caller that is not namespace/serviceaccount", "nmi:\n  hostTokenAllow: [csi]", []string{"hostTokenAllow"}},
		{"no mic replica", "mic:\n  replicas: 0", []string{"replicas"}},
		{"an empty image repository", "image:\n  repository: \"\"", []string{"repository"}},
		{"forceNamespaced not a boolean", "forceNamespaced: maybe", []string{"forceNamespaced"}},
		{"an identity without a binding", "azureIdentities:\n  app:\n    clientID: x", []string{"azureIdentities", "binding"}},
		{"a webhook tenant that is not a tenant ID", "workloadIdentity:\n  tenantID: \"my tenant\"", []string{"workloadIdentity", "tenantID"}},
		{"a cloud the webhook does not know", "workloadIdentity:\n  cloud: AzureStack", []string{"workloadIdentity", "cloud"}},
		{"a webhook authority host over http", "workloadIdentity:\n  authorityHost: http://login.microsoftonline.com/", []string{"workloadIdentity", "authorityHost"}},
		{"no webhook replica", "workloadIdentity:\n  replicas: 0", []string{"workloadIdentity", "replicas"}},
		{"an unknown webhook value", "workloadIdentity:\n  tenant: x", []string{"workloadIdentity", "tenant"}},
		{"an identity type out of range", "azureIdentities:\n  app:\n    type: 7\n    binding: {name: b, selector: s}", []string{"azureIdentities", "type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, "podid-system", tt.values, false)
			if err == nil {
				t.Fatalf("values accepted:\n%s", tt.values)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}
