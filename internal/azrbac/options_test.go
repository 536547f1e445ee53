package azrbac

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestOptions(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string // "" means valid
	}{
		"a cluster ID is enough":                {[]string{"--cluster-id", testCluster}, ""},
		"no cluster ID names the shape to pass": {nil, "managedClusters/<name>"},
		"a namespace is not a cluster":          {[]string{"--cluster-id", testCluster + "/namespaces/dev"}, "managedClusters/<name>"},
		"a bad listen address":                  {[]string{"--cluster-id", testCluster, "--listen-address", "8443"}, "want HOST:PORT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := NewOptions()
			fs := pflag.NewFlagSet("azrbac", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
			if err == nil && (!o.Policy().AllowDiscovery || o.Policy().DenyNonAADUsers || o.Policy().ClusterID != testCluster) {
				t.Errorf("policy = %+v, want discovery allowed and strangers left to RBAC by default", o.Policy())
			}
		})
	}
}
