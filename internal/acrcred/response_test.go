package acrcred

import (
	"encoding/json"
	"testing"
	"time"
)

func TestCacheDuration(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := map[string]struct {
		exp  time.Time
		want time.Duration
	}{
		"a 3-hour refresh token is cached for the default hour": {now.Add(3 * time.Hour), DefaultCacheDuration},
		"a token dying in 30 minutes is cached 25":              {now.Add(30 * time.Minute), 25 * time.Minute},
		"a token dying within the margin is not cached":         {now.Add(2 * time.Minute), 0},
		"an expired token is not cached":                        {now.Add(-time.Hour), 0},
		"an unknown expiry gets the default":                    {time.Time{}, DefaultCacheDuration},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CacheDuration(tc.exp, now); got != tc.want {
				t.Fatalf("CacheDuration = %s, want %s", got, tc.want)
			}
		})
	}
}

// The kubelet reads these exact JSON keys and values.
func TestResponsesOnTheWire(t *testing.T) {
	cases := map[string]struct {
		resp any
		want string
	}{
		"not ACR: nothing cached, no credentials": {NotACR(),
			`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"0s"}`},
		"ACR with a mirror and the anonymous entry": {Credentials(Target{LoginServer: "r.azurecr.io", Source: "mcr.microsoft.com"}, "RT", time.Hour, true),
			`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"1h0m0s","auth":{"*.azurecr.*":{"username":"","password":""},"mcr.microsoft.com":{"username":"00000000-0000-0000-0000-000000000000","password":"RT"},"r.azurecr.io":{"username":"00000000-0000-0000-0000-000000000000","password":"RT"}}}`},
		"ACR without the anonymous entry": {Credentials(Target{LoginServer: "r.azurecr.io"}, "RT", 5*time.Minute, false),
			`{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"5m0s","auth":{"r.azurecr.io":{"username":"00000000-0000-0000-0000-000000000000","password":"RT"}}}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(tc.resp)
			if err != nil || string(b) != tc.want {
				t.Fatalf("got  %s\nwant %s (%v)", b, tc.want, err)
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	cases := map[string]struct {
		in, wantErr string
	}{
		"the kubelet's request": {in: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"r.azurecr.io/a:1"}`},
		"an old version":        {in: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"x"}`, wantErr: `request apiVersion "credentialprovider.kubelet.k8s.io/v1alpha1" is not supported; set apiVersion credentialprovider.kubelet.k8s.io/v1 in the kubelet's credential provider config`},
		"no image":              {in: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":" "}`, wantErr: "request image is empty; the kubelet names the image being pulled"},
		"another kind":          {in: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Pod","image":"x"}`, wantErr: `request kind "Pod" is not CredentialProviderRequest`},
		"not JSON says so":      {in: `image: x`, wantErr: "decode CredentialProviderRequest from stdin: invalid character 'i' looking for beginning of value (the kubelet writes one JSON object)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeRequest(stringsReader(tc.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Fatalf("error = %q, want %q", got, tc.wantErr)
			}
		})
	}
}
