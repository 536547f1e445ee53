package acrcred

import (
	"strings"
	"testing"
)

func TestResolveTarget(t *testing.T) {
	cases := map[string]struct {
		arg, image, want, wantErr string
	}{
		"a bare name gets the cloud's suffix":       {arg: "PodidAcr", want: "podidacr.azurecr.io"},
		"a login server is taken as is":             {arg: "podidacr.azurecr.io", want: "podidacr.azurecr.io"},
		"the image names the registry":              {image: "podidacr.azurecr.io/app:v1", want: "podidacr.azurecr.io"},
		"name and image agree":                      {arg: "podidacr", image: "podidacr.azurecr.io/app:v1", want: "podidacr.azurecr.io"},
		"name and image disagree":                   {arg: "other", image: "podidacr.azurecr.io/app:v1", wantErr: "--image podidacr.azurecr.io/app:v1 is not in registry other.azurecr.io"},
		"nothing to check says what to name":        {wantErr: "name a registry (podid check-acr myacr.azurecr.io) or an image"},
		"an image without registry says how to fix": {image: "app:v1", wantErr: `--image "app:v1" names no registry`},
		"a mirrored image is checked at its ACR":    {image: "mcr.microsoft.com/pause:3.10", want: "podidacr.azurecr.io"},
		"another registry gets no credentials":      {image: "ghcr.io/x/y:1", wantErr: "ghcr.io is not an Azure Container Registry login server (.azurecr.io, .azurecr.cn"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, _, err := ResolveTarget(tc.arg, tc.image, ".azurecr.io", RegistrySuffixes, []Mirror{{"mcr.microsoft.com", "podidacr.azurecr.io"}})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResolveTarget = %q, %v", got, err)
			}
		})
	}
}

func TestVerdictAndFormat(t *testing.T) {
	im := &Image{"r.azurecr.io", "app", "v1"}
	pass := []Result{{Step: StepDNS, Status: Pass, Detail: "ok"}, {Step: StepManifest, Status: Pass, Detail: "found"}}
	failing := []Result{{Step: StepDNS, Status: Pass, Detail: "ok"},
		{Step: StepPullToken, Status: Fail, Detail: "GET … answered 401\r\nTrace ID: x", Finding: Finding{Cause: "no role", Fix: "attach"}},
		{Step: StepManifest, Status: Skip, Detail: "not run: pull-token failed"}}
	cases := map[string]struct {
		results []Result
		im      *Image
		ok      bool
		verdict string
	}{
		"every step passes with an image: can pull": {pass, im, true, "The kubelet can pull r.azurecr.io/app:v1."},
		"without an image it never claims a pull":   {pass, nil, true, "The kubelet identity signs in to r.azurecr.io. Name an image with --image"},
		"a failed step names itself":                {failing, im, false, "The kubelet cannot pull r.azurecr.io/app:v1: the pull-token step failed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, ok := Verdict(tc.results, "r.azurecr.io", tc.im)
			if ok != tc.ok || !strings.HasPrefix(v, tc.verdict) {
				t.Fatalf("Verdict = %q, %v", v, ok)
			}
		})
	}
	got := Format(failing, "V")
	want := "PASS  dns         ok\nFAIL  pull-token  GET … answered 401\n      cause: no role\n      fix:   attach\nSKIP  manifest    not run: pull-token failed\n\nV\n"
	if got != want {
		t.Fatalf("Format =\n%s\nwant\n%s", got, want)
	}
}

func TestDescribeAddrs(t *testing.T) {
	got := describeAddrs([]string{"10.0.0.5", "20.1.2.3", "127.0.0.1"})
	if got != "10.0.0.5 (private: a private endpoint), 20.1.2.3 (public), 127.0.0.1 (loopback)" {
		t.Fatalf("describeAddrs = %q", got)
	}
}

func TestAzureConfigValidate(t *testing.T) {
	cases := map[string]struct {
		cfg     AzureConfig
		wantErr string
	}{
		"AKS's managed identity form":          {cfg: AzureConfig{UseManagedIdentityExtension: true, UserAssignedIdentityID: "c1", AADClientID: "msi", AADClientSecret: "msi"}},
		"canipull's msi placeholder form":      {cfg: AzureConfig{AADClientID: "msi", AADClientSecret: "msi", UserAssignedIdentityID: "c1"}},
		"managed identity without a client ID": {cfg: AzureConfig{UseManagedIdentityExtension: true}, wantErr: "userAssignedIdentityID is empty; set it to the kubelet identity's client ID"},
		"a service principal":                  {cfg: AzureConfig{TenantID: "t", AADClientID: "a", AADClientSecret: "s"}},
		"a service principal without secret":   {cfg: AzureConfig{TenantID: "t", AADClientID: "a"}, wantErr: "a service principal node needs aadClientSecret"},
		"an unknown cloud":                     {cfg: AzureConfig{Cloud: "Mars", TenantID: "t", AADClientID: "a", AADClientSecret: "s"}, wantErr: `unknown Azure cloud name "Mars"; use one of AzurePublicCloud`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
