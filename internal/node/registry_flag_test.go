package node

import (
	"strings"
	"testing"
)

func TestParseRegistryMapsAHostToAURL(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Registry
		wantErr string
	}{
		"a plain-http loopback registry": {
			in: "hub.private.test=http://127.0.0.1:5001", want: Registry{Host: "hub.private.test", Endpoint: "http://127.0.0.1:5001"},
		},
		"a host with a port, upper case, a trailing slash on the URL": {
			in: "Registry.Example.Test:5000=https://127.0.0.1:5443/", want: Registry{Host: "registry.example.test:5000", Endpoint: "https://127.0.0.1:5443"},
		},
		"no equals sign":       {in: "hub.private.test", wantErr: "want HOST=URL"},
		"an empty URL":         {in: "hub.private.test=", wantErr: "want HOST=URL"},
		"a host with a scheme": {in: "http://hub.private.test=http://127.0.0.1:5001", wantErr: "is not a registry host name"},
		"a host with a path":   {in: "hub.private.test/team=http://127.0.0.1:5001", wantErr: "is not a registry host name"},
		"a URL without scheme": {in: "hub.private.test=127.0.0.1:5001", wantErr: "is not a registry URL"},
		"a URL with a path":    {in: "hub.private.test=http://127.0.0.1:5001/v2", wantErr: "is not a registry URL"},
		"a URL with a user":    {in: "hub.private.test=http://u:p@127.0.0.1:5001", wantErr: "is not a registry URL"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseRegistry(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRegistry(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseRegistry(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseRegistriesRefusesAHostMappedTwice(t *testing.T) {
	_, err := ParseRegistries([]string{"hub.private.test=http://127.0.0.1:1", "HUB.private.test=http://127.0.0.1:2"})
	if err == nil || !strings.Contains(err.Error(), "hub.private.test is mapped twice") {
		t.Fatalf("err = %v; want the host named as mapped twice", err)
	}
}

// The mapping ends up in containerd's hosts.toml for the host, beside
// podid's own loopback registry, so containerd pulls HOST/… from the URL.
func TestAnExtraRegistryGetsItsHostsTOML(t *testing.T) {
	r, err := ParseRegistry("hub.private.test=http://127.0.0.1:5001")
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Registries: append(Mirrors("http://127.0.0.1:5000", []string{"podid.local"}), r)}
	hosts := RegistryHosts(c)
	want := "server = \"http://127.0.0.1:5001\"\n\n[host.\"http://127.0.0.1:5001\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
	if hosts["hub.private.test"] != want || hosts["podid.local"] == "" {
		t.Fatalf("hosts.toml files = %q; want hub.private.test's to be\n%s", hosts, want)
	}
}
