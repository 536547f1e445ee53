package acrcred

import (
	"reflect"
	"testing"
)

func TestTargetOf(t *testing.T) {
	mirror := []Mirror{{Source: "mcr.microsoft.com", Target: "podidacr.azurecr.io"}}
	cases := map[string]struct {
		image   string
		mirrors []Mirror
		want    Target
		ok      bool
		wantErr bool
	}{
		"an ACR image gets its login server":             {image: "podidacr.azurecr.io/app/web:v1", want: Target{LoginServer: "podidacr.azurecr.io"}, ok: true},
		"an ACR image by digest":                         {image: "podidacr.azurecr.io/app@sha256:abc", want: Target{LoginServer: "podidacr.azurecr.io"}, ok: true},
		"the host is matched case-insensitively":         {image: "PodidAcr.AzureCR.io/app:v1", want: Target{LoginServer: "podidacr.azurecr.io"}, ok: true},
		"Azure China's suffix":                           {image: "reg.azurecr.cn/x:1", want: Target{LoginServer: "reg.azurecr.cn"}, ok: true},
		"a geo-replica host":                             {image: "reg.westus.geo.azurecr.io/x:1", want: Target{LoginServer: "reg.westus.geo.azurecr.io"}, ok: true},
		"Docker Hub's short name is not ACR":             {image: "nginx:1.27"},
		"Docker Hub's full name is not ACR":              {image: "docker.io/library/nginx:1.27"},
		"a look-alike host is not ACR":                   {image: "azurecr.io.evil.example/app:v1"},
		"ACR's domain in the path is not ACR":            {image: "ghcr.io/podidacr.azurecr.io/app:v1"},
		"the bare suffix is no registry":                 {image: "azurecr.io/app:v1"},
		"a mirrored registry is served by its ACR":       {image: "mcr.microsoft.com/oss/kubernetes/pause:3.10", mirrors: mirror, want: Target{LoginServer: "podidacr.azurecr.io", Source: "mcr.microsoft.com"}, ok: true},
		"a registry that is not a mirror source is left": {image: "ghcr.io/x/y:1", mirrors: mirror},
		"an empty image is an error":                     {image: "", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok, err := TargetOf(tc.image, tc.mirrors, RegistrySuffixes)
			if (err != nil) != tc.wantErr || ok != tc.ok || got != tc.want {
				t.Fatalf("TargetOf(%q) = %+v, %v, %v; want %+v, %v", tc.image, got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestParseMirrors(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    []Mirror
		wantErr bool
	}{
		"empty is none":                  {in: ""},
		"one pair":                       {in: "mcr.microsoft.com:myacr.azurecr.io", want: []Mirror{{"mcr.microsoft.com", "myacr.azurecr.io"}}},
		"pairs with spaces, lower-cased": {in: "A.io:x.azurecr.io, b.io:Y.azurecr.io", want: []Mirror{{"a.io", "x.azurecr.io"}, {"b.io", "y.azurecr.io"}}},
		"a pair without target":          {in: "mcr.microsoft.com", wantErr: true},
		"a target with a port":           {in: "a.io:x.azurecr.io:443", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMirrors(tc.in)
			if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseMirrors(%q) = %+v, %v", tc.in, got, err)
			}
		})
	}
}

func TestParseImage(t *testing.T) {
	cases := map[string]struct {
		in   string
		want Image
	}{
		"tag":                        {"r.azurecr.io/app/web:v1", Image{"r.azurecr.io", "app/web", "v1"}},
		"no tag is latest":           {"r.azurecr.io/app", Image{"r.azurecr.io", "app", "latest"}},
		"digest":                     {"r.azurecr.io/app@sha256:ab", Image{"r.azurecr.io", "app", "sha256:ab"}},
		"registry with port":         {"localhost:5000/app:1", Image{"localhost:5000", "app", "1"}},
		"short name has no registry": {"library/nginx:1", Image{"", "library/nginx", "1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseImage(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseImage(%q) = %+v, %v", tc.in, got, err)
			}
		})
	}
}
