package doctor

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenReport is a fixed report with every status, evidence and fixes.
func goldenReport() Report {
	return Report{
		Scope: "namespace demo",
		Findings: []Finding{
			{Check: "node-agent", Status: Fail, Object: "Node node-1", Message: "No node agent answered on node node-1 at 127.32.0.2:8085: its pods' token requests to 169.254.169.254 fail.",
				Evidence: []string{"1 pod in scope on the node: demo/app-1", "probe GET http://127.32.0.2:8085/readyz: dial tcp 127.32.0.2:8085: connect: connection refused"},
				Fix:      "kubectl -n podid get pods -o wide --field-selector spec.nodeName=node-1"},
			{Check: "gather", Status: Warn, Message: "The doctor could not read part of the cluster, so the checks that need it skip or say less.",
				Evidence: []string{`could not list Leases: leases.coordination.k8s.io is forbidden`},
				Fix:      "kubectl create clusterrole podid-doctor --verb=get,list --resource=leases.coordination.k8s.io"},
			{Check: "controller", Status: Skip, Message: "Deployments could not be listed (see the gather check)."},
			{Check: "crds-installed", Status: Pass, Message: "All 4 aadpodidentity.k8s.io CRDs are installed and served."},
			{Check: "duplicate-agents", Status: Pass, Message: "1 node agent installation found; no two own the 169.254.169.254 redirect."},
		},
	}
}

func TestOutputMatchesGolden(t *testing.T) {
	cases := map[string]struct {
		report Report
		write  func(*bytes.Buffer, Report) error
	}{
		"report.table.golden":       {goldenReport(), func(b *bytes.Buffer, r Report) error { return WriteTable(b, r) }},
		"report.json.golden":        {goldenReport(), func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
		"empty-report.table.golden": {Report{Scope: "cluster"}, func(b *bytes.Buffer, r Report) error { return WriteTable(b, r) }},
		"empty-report.json.golden":  {Report{Scope: "cluster"}, func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
	}
	for golden, tc := range cases {
		t.Run(golden, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b, tc.report); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", golden)
			if *updateGolden {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if b.String() != string(want) {
				t.Fatalf("output differs from %s (go test -update if intended):\n%s", path, b.String())
			}
		})
	}
}
