package chart

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files and deploy/podid.yaml from the chart")

const (
	chartDir    = "../../charts/podid"
	manifest    = "../../deploy/podid.yaml"
	releaseName = "podid"
	// manifestNamespace is where deploy/podid.yaml installs podid: the
	// agent's default service-account namespace and `podid up`'s.
	manifestNamespace = "kube-system"
)

// kubeVersion is the version of the API server internal/testenv runs, which
// TestServerAcceptsEveryObject sends every object to.
var kubeVersion = &chartutil.KubeVersion{Version: "v1.34.0", Major: "1", Minor: "34"}

// valueSet is one way of installing the chart, pinned by a golden file.
type valueSet struct {
	name      string
	namespace string
	values    string
}

// valueSets are the three installs the golden files pin. The webhook's
// tenant comes from a ConfigMap in defaults, from nmi.tenantID in
// node-mode-cloud and from workloadIdentity.tenantID in
// cluster-wide-identities.
var valueSets = []valueSet{
	{name: "defaults", namespace: manifestNamespace},
	{name: "node-mode-cloud", namespace: "podid-system", values: `
operationMode: standard
mic:
  immutableUserMSIs:
    - /subscriptions/0000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet
  cloud:
    armEndpoint: https://management.azure.com/
    authorityHost: https://login.microsoftonline.com/
    tenantID: 11111111-1111-1111-1111-111111111111
    clientID: 22222222-2222-2222-2222-222222222222
    clientSecret:
      name: podid-mic-azure
      key: clientSecret
    resync: 5m
nmi:
  podCIDRs: [10.244.0.0/16, fd00:10:244::/56]
  hostTokenAllow: []
  tenantID: 11111111-1111-1111-1111-111111111111
workloadIdentity:
  cloud: AzureUSGovernmentCloud
`},
	{name: "cluster-wide-identities", namespace: "podid-system", values: `
forceNamespaced: "false"
apiServer:
  host: 10.0.0.10
  port: 6443
image:
  repository: registry.example.com/mirror/podid
  tag: v0.1.0-rc.1
  pullPolicy: Always
  imagePullSecrets: [regcred]
rbac:
  allowAccessToSecrets: false
mic:
  replicas: 3
  logVerbosity: 1
  hostNetwork: true
nmi:
  hostTokenAllow: [kube-system/csi-secrets-store-provider-azure, node]
  iptables: /usr/sbin/iptables-legacy
  lockDir: /var/run/podid
workloadIdentity:
  replicas: 3
  tenantID: 55555555-5555-5555-5555-555555555555
  authorityHost: https://login.microsoftonline.com/
  logVerbosity: 1
azureIdentities:
  app-identity:
    namespace: app
    type: 0
    resourceID: /subscriptions/0000/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app
    clientID: 33333333-3333-3333-3333-333333333333
    annotations:
      aadpodidentity.k8s.io/token-mode: node
    binding:
      name: app-identity-binding
      selector: app
  reports-sp:
    namespace: reports
    type: 1
    clientID: 44444444-4444-4444-4444-444444444444
    tenantID: 11111111-1111-1111-1111-111111111111
    clientPassword:
      name: reports-sp
      namespace: reports
    binding:
      name: reports-sp-binding
      selector: reports
`},
}

// rendered is one install of the chart, as `helm template` prints it.
type rendered struct {
	// Manifest is every template's output, in Helm's install order.
	Manifest string
	// Notes is NOTES.txt.
	Notes string
}

// render renders the chart as `helm template` does (client-only dry run,
// values checked against values.schema.json). includeCRDs prepends crds/.
func render(t testing.TB, namespace, values string, includeCRDs bool) (rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		t.Fatalf("parse values: %v", err)
	}
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities,
		Log:          func(string, ...interface{}) {},
	}
	install := action.NewInstall(cfg)
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.IncludeCRDs = includeCRDs
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.KubeVersion = kubeVersion
	rel, err := install.Run(ch, vals)
	if err != nil {
		return rendered{}, err
	}
	return rendered{Manifest: rel.Manifest, Notes: rel.Info.Notes}, nil
}

// mustRender is render for values that must be accepted.
func mustRender(t testing.TB, vs valueSet, includeCRDs bool) rendered {
	t.Helper()
	r, err := render(t, vs.namespace, vs.values, includeCRDs)
	if err != nil {
		t.Fatalf("render %s: %v", vs.name, err)
	}
	return r
}

// objects splits a manifest into its objects.
func objects(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	r := utilyaml.NewYAMLReader(bufioReader(manifest))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("split manifest: %v", err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(doc, &m); err != nil {
			t.Fatalf("decode manifest document: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test ./test/chart -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the chart's render; run go test ./test/chart -update and review the diff\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line that differs, enough to find the change.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return ""
}

func TestRenderMatchesGolden(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := mustRender(t, vs, false)
			out := "# values:" + indentComment(vs.values) + "\n" + r.Manifest + "---\n# NOTES.txt\n" + commentOut(r.Notes)
			golden(t, filepath.Join("testdata", vs.name+".yaml"), []byte(out))
		})
	}
}

// TestManifestMatchesChart keeps deploy/podid.yaml, the one-line install,
// equal to the chart rendered with its defaults, CRDs first.
func TestManifestMatchesChart(t *testing.T) {
	r := mustRender(t, valueSets[0], true)
	out := "# podid, rendered from charts/podid with its default values into namespace " + manifestNamespace + ".\n" +
		"# Install: kubectl apply --server-side -f deploy/podid.yaml\n" +
		"# The workload-identity webhook waits for your Azure AD tenant; give it once:\n" +
		"#   kubectl create configmap podid-wi-webhook-tenant -n " + manifestNamespace + " --from-literal=AZURE_TENANT_ID=<tenant ID>\n" +
		"# Uninstall, keeping the CRDs and with them every AzureIdentity and binding:\n" +
		"#   kubectl delete -f deploy/podid.yaml -l app.kubernetes.io/instance=podid\n" +
		"# (the node agents then remove their iptables rules as they exit).\n" +
		"# Generated by `go test ./test/chart -update`; edit the chart, not this file.\n" +
		r.Manifest
	golden(t, manifest, []byte(out))
}
