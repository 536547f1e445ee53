package kvreader

import (
	"strings"
	"testing"
)

func TestOptionsVault(t *testing.T) {
	cases := map[string]struct {
		env     map[string]string
		want    string
		wantErr string
	}{
		"the seed's vault name is read in public Azure": {
			env:  map[string]string{EnvVaultName: "kv-westus2-aks"},
			want: "https://kv-westus2-aks.vault.azure.net",
		},
		"a full URL wins over the name": {
			env:  map[string]string{EnvVaultName: "kv-westus2-aks", EnvVaultURL: "https://kv.vault.podid.test"},
			want: "https://kv.vault.podid.test",
		},
		"no vault at all says which variable to set": {
			env: map[string]string{}, wantErr: "set AZURE_KEYVAULT_NAME",
		},
		"a plain HTTP URL is refused": {
			env: map[string]string{EnvVaultURL: "http://127.0.0.1:8443"}, wantErr: "want https://HOST",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := NewOptions(func(k string) string { return c.env[k] })
			got, err := o.Vault()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestOptionsListenAddressFromEnv(t *testing.T) {
	o := NewOptions(func(k string) string {
		return map[string]string{EnvListen: "0.0.0.0:9000", EnvVaultName: "v", EnvClientID: "cid"}[k]
	})
	if o.ListenAddress != "0.0.0.0:9000" || o.ClientID != "cid" {
		t.Fatalf("options %+v did not take the environment", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsCredential(t *testing.T) {
	env := map[string]string{EnvVaultName: "v"}
	o := NewOptions(func(k string) string { return env[k] })
	if o.Credential != CredManagedIdentity || o.Validate() != nil {
		t.Fatalf("the seed's sidecar must keep asking IMDS by default: %+v, %v", o, o.Validate())
	}
	env[EnvCred] = CredDefault
	if o := NewOptions(func(k string) string { return env[k] }); o.Credential != CredDefault || o.Validate() != nil {
		t.Fatalf("%s=%s not taken: %+v", EnvCred, CredDefault, o)
	}
	env[EnvCred] = "workload"
	err := NewOptions(func(k string) string { return env[k] }).Validate()
	if err == nil || !strings.Contains(err.Error(), `credential "workload": want managed-identity, workload-identity or default`) {
		t.Fatalf("a misspelt credential gives %v", err)
	}
}
