package acrcred_test

import (
	"context"
	"strings"
	"testing"

	"github.com/podid/podid/internal/acrcred"
	"github.com/podid/podid/internal/cloud"
)

// check runs Check for image and returns the report and verdict.
func check(t *testing.T, c *acrcred.Client, image string) (string, bool) {
	t.Helper()
	login, im, err := acrcred.ResolveTarget("", image, ".azurecr.io", acrcred.RegistrySuffixes, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Check(context.Background(), login, im)
	v, ok := acrcred.Verdict(res, login, im)
	out := acrcred.Format(res, v)
	t.Log("\n" + out)
	return out, ok
}

func TestCheckNeverSaysCanPullWhenThePullFails(t *testing.T) {
	n := startNode(t, cloud.RegistrySpec{})
	kubelet := n.identity(t, "kubelet")
	c := n.client(t, n.msiConfig(t, "kubelet"), "", nil)

	// No AcrPull: the exchange passes (as az aks check-acr would report),
	// the pull token does not.
	out, ok := check(t, c, regLogin+"/app/web:v1")
	for _, want := range []string{
		"PASS  exchange    refresh token issued",
		"FAIL  pull-token  GET https://podidacr.azurecr.io/oauth2/token?scope=repository%3Aapp%2Fweb%3Apull&service=podidacr.azurecr.io answered 401 UNAUTHORIZED",
		"cause: the kubelet identity (object ID " + kubelet.PrincipalID + ") has no role that allows pull on registry podidacr",
		"fix:   podid cloud acr attach --registry podidacr --principal " + kubelet.PrincipalID,
		"SKIP  manifest    not run: pull-token failed",
		"The kubelet cannot pull podidacr.azurecr.io/app/web:v1: the pull-token step failed",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
	if ok {
		t.Fatal("verdict ok without AcrPull")
	}

	n.grant(t, kubelet.PrincipalID, "AcrPull")
	out, ok = check(t, c, regLogin+"/app/web:v1")
	if !ok || !strings.Contains(out, "PASS  manifest    podidacr.azurecr.io/app/web:v1 found ("+n.digest.String()+")") || !strings.Contains(out, "The kubelet can pull podidacr.azurecr.io/app/web:v1.") {
		t.Fatalf("with AcrPull:\n%s", out)
	}

	// A wrong tag and a wrong repository, with AcrPull: ACR's codes, not a 401.
	out, ok = check(t, c, regLogin+"/app/web:v2")
	if ok || !strings.Contains(out, `FAIL  manifest    GET https://podidacr.azurecr.io/v2/app/web/manifests/v2 answered 404 MANIFEST_UNKNOWN: manifest tagged by "v2" is not found`) ||
		!strings.Contains(out, "fix:   list the tags with az acr repository show-tags --name podidacr --repository app/web") {
		t.Fatalf("wrong tag:\n%s", out)
	}
	out, _ = check(t, c, regLogin+"/app/nope:v1")
	if !strings.Contains(out, "NAME_UNKNOWN") || !strings.Contains(out, "repository app/nope does not exist") {
		t.Fatalf("wrong repository:\n%s", out)
	}
}

func TestCheckFailures(t *testing.T) {
	cases := map[string]struct {
		spec   cloud.RegistrySpec
		cfg    func(*node, *testing.T) acrcred.AzureConfig
		lookup func(context.Context, string) ([]string, error)
		want   []string
	}{
		"a firewall answers 403 at the exchange": {
			spec: cloud.RegistrySpec{DefaultAction: "Deny", IPRules: []string{"10.1.0.0/16"}},
			cfg:  func(n *node, t *testing.T) acrcred.AzureConfig { return n.msiConfig(t, "kubelet") },
			want: []string{"FAIL  exchange    POST https://podidacr.azurecr.io/oauth2/exchange answered 403 DENIED: client with IP '127.0.0.1' is not allowed access",
				"fix:   allow the node's address: az acr network-rule add --name podidacr --ip-address 127.0.0.1"},
		},
		"public access disabled is the network too": {
			spec: cloud.RegistrySpec{PublicNetworkAccess: "Disabled"},
			cfg:  func(n *node, t *testing.T) acrcred.AzureConfig { return n.msiConfig(t, "kubelet") },
			want: []string{"FAIL  exchange", "403 DENIED", "pull through a private endpoint"},
		},
		"an expired service principal secret is AADSTS7000222": {
			cfg: func(n *node, t *testing.T) acrcred.AzureConfig { return n.spConfig(t, "expired-sp", "old-secret") },
			want: []string{"FAIL  aad-token   ask AAD for kubelet service principal: token endpoint answered 401 invalid_client: AADSTS7000222",
				"has expired (AADSTS7000222)", "SKIP  exchange    not run: aad-token failed"},
		},
		"a name that does not resolve gives the DNS fix": {
			cfg:    func(n *node, t *testing.T) acrcred.AzureConfig { return n.msiConfig(t, "kubelet") },
			lookup: func(context.Context, string) ([]string, error) { return nil, errNoSuchHost },
			want:   []string{"FAIL  dns", "cause: podidacr.azurecr.io does not resolve from this node (no such host)", "privatelink.azurecr.io", "SKIP  challenge"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n := startNode(t, tc.spec)
			out, ok := check(t, n.client(t, tc.cfg(n, t), "", tc.lookup), regLogin+"/app/web:v1")
			if ok {
				t.Fatalf("verdict ok:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("report lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
