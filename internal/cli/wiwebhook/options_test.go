package wiwebhook

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/podid/podid/internal/wiwebhook"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestOptionsFromV16Environment(t *testing.T) {
	o := NewOptions(env(map[string]string{"AZURE_TENANT_ID": "t1", "AZURE_ENVIRONMENT": "AzureChinaCloud", "POD_NAMESPACE": "azure-workload-identity-system"}))
	if err := o.Validate(); err != nil {
		t.Fatalf("v1.6's environment refused: %v", err)
	}
	so := o.serverOptions()
	if so.Config.TenantID != "t1" || so.Config.AuthorityHost != "https://login.chinacloudapi.cn/" || so.Config.Audience != wiwebhook.DefaultAudience {
		t.Errorf("config %+v, want tenant t1, China's authority host and the default audience", so.Config)
	}
	if so.Certs.Secret.Namespace != "azure-workload-identity-system" || so.Certs.Hosts[0] != "podid-wi-webhook.azure-workload-identity-system.svc" {
		t.Errorf("certificate options %+v, want the pod's namespace", so.Certs)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := map[string]struct {
		change func(*Options)
		// want is in the error; empty means valid.
		want string
	}{
		"defaults with a tenant":         {change: func(*Options) {}},
		"no tenant":                      {change: func(o *Options) { o.TenantID = "" }, want: "give --tenant-id or set AZURE_TENANT_ID"},
		"unknown cloud":                  {change: func(o *Options) { o.Cloud = "AzureMoonCloud" }, want: `unknown cloud "AzureMoonCloud"`},
		"authority host wins over cloud": {change: func(o *Options) { o.Cloud = "AzureMoonCloud"; o.AuthorityHost = "https://login.podid.test/" }},
		"authority host over http":       {change: func(o *Options) { o.AuthorityHost = "http://login.example" }, want: "want an https URL"},
		"bad address":                    {change: func(o *Options) { o.Address = "9443" }, want: `--address "9443": want HOST:PORT`},
		"probes and metrics on one port": {change: func(o *Options) { o.MetricsAddress = o.ProbeAddress }, want: "give each its own port"},
		"TLS 1.1":                        {change: func(o *Options) { o.TLSMinVersion = "1.1" }, want: "want 1.2 or 1.3"},
		"namespace with a slash":         {change: func(o *Options) { o.Namespace = "a/b" }, want: `--namespace "a/b"`},
		"empty audience":                 {change: func(o *Options) { o.Audience = "" }, want: "Azure AD expects api://AzureADTokenExchange"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := NewOptions(env(map[string]string{"AZURE_TENANT_ID": "t1"}))
			tc.change(o)
			err := o.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestManifestCommandPrintsBothConfigurations(t *testing.T) {
	cmd := NewCommand(context.Background())
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"manifest", "--url", "https://127.0.0.1:9443"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: MutatingWebhookConfiguration", "url: https://127.0.0.1:9443/mutate-v1-pod", "kind: ValidatingWebhookConfiguration", "url: https://127.0.0.1:9443/warn-v1-pod"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("manifest lacks %q:\n%s", want, out.String())
		}
	}
	cmd = NewCommand(context.Background())
	cmd.SetArgs([]string{"manifest", "--url", "http://insecure"})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "want the webhook's https base URL") {
		t.Errorf("http URL: %v, want a refusal", err)
	}
}
