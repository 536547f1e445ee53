package doctor

import (
	"strings"
	"testing"
)

// Texts as the kubelet puts them in `Failed to pull image` events,
// built from containerd's words (research/acr.md §4): P wraps an error as
// containerd's resolver does, U is ACR's token URL containerd ≥1.7 names.
const (
	acrRef   = "podidacr.azurecr.io/busybox:latest"
	acrToken = "https://podidacr.azurecr.io/oauth2/token?scope=repository%3Abusybox%3Apull&service=podidacr.azurecr.io"
)

func unpack(ref, err string) string {
	return `failed to pull and unpack image "` + ref + `": failed to resolve reference "` + ref + `": ` + err
}

func failedToPull(ref, err string) string { return `Failed to pull image "` + ref + `": ` + err }

func TestPullClassify(t *testing.T) {
	oauth16 := unpack(acrRef, "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized")
	anon16 := unpack(acrRef, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized")
	oauth17 := unpack(acrRef, "failed to authorize: failed to fetch oauth token: unexpected status from GET request to "+acrToken+": 401 Unauthorized")
	anon17 := unpack(acrRef, "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to "+acrToken+": 401 Unauthorized")
	const wrongTag = "podidacr.azurecr.io/busybox:nope"
	notFound := "rpc error: code = NotFound desc = " + unpack(wrongTag, wrongTag+": not found")
	head := `failed to do request: Head "https://podidacr.azurecr.io/v2/busybox/manifests/latest": `
	cases := map[string]struct {
		message string
		want    PullCause
		// anonymous is whether the anonymous fallback's 401 is beside it.
		anonymous bool
		// host, repo and tag are what the reference splits into.
		host, repo, tag string
		clientIP        string
	}{
		"detached, containerd 1.6 (the real node's): both the identity's and the anonymous token refused": {
			message: failedToPull(acrRef, "["+oauth16+", "+anon16+"]"), want: PullCredentialsRefused, anonymous: true,
			host: "podidacr.azurecr.io", repo: "busybox", tag: "latest"},
		"detached, containerd 1.7+ naming the GET request": {
			message: failedToPull(acrRef, "["+oauth17+", "+anon17+"]"), want: PullCredentialsRefused, anonymous: true},
		"detached, a kubelet before 1.28 prefixing each error with rpc error Unknown": {
			message: failedToPull(acrRef, "[rpc error: code = Unknown desc = "+oauth17+", rpc error: code = Unknown desc = "+anon17+"]"), want: PullCredentialsRefused, anonymous: true},
		"no credentials offered: a single anonymous 401, containerd 1.6": {
			message: failedToPull(acrRef, anon16), want: PullNoCredentials, anonymous: true},
		"no credentials offered: a single anonymous 401, containerd 1.7+": {
			message: failedToPull(acrRef, anon17), want: PullNoCredentials, anonymous: true},
		"a wrong tag: NotFound with the misleading anonymous 401 beside it (seed 001)": {
			message: failedToPull(wrongTag, "["+notFound+", "+unpack(wrongTag, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized")+"]"),
			want:    PullNotFound, anonymous: true, host: "podidacr.azurecr.io", repo: "busybox", tag: "nope"},
		"a wrong tag without the anonymous entry": {
			message: failedToPull(wrongTag, notFound), want: PullNotFound},
		"the firewall, containerd 1.6 as Microsoft's article shows it": {
			message: failedToPull(acrRef, unpack(acrRef, "failed to authorize: failed to fetch anonymous token: unexpected status: 403 Forbidden")), want: PullFirewall},
		"the firewall, containerd 1.7+": {
			message: failedToPull(acrRef, unpack(acrRef, "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to "+acrToken+": 403 Forbidden")), want: PullFirewall},
		"the firewall, containerd 2.4 appending ACR's body": {
			message: failedToPull(acrRef, unpack(acrRef, "unexpected status from HEAD request to https://podidacr.azurecr.io/v2/busybox/manifests/latest: 403 Forbidden: denied: client with IP '10.254.0.2' is not allowed access. Refer https://aka.ms/acr/firewall to grant access.")),
			want:    PullFirewall, clientIP: "10.254.0.2"},
		"a name that does not resolve": {
			message: failedToPull(acrRef, unpack(acrRef, head+"dial tcp: lookup podidacr.azurecr.io on 10.0.0.10:53: no such host")), want: PullDNS},
		"a private endpoint that does not answer": {
			message: failedToPull(acrRef, unpack(acrRef, head+"dial tcp 10.1.2.3:443: i/o timeout")), want: PullUnreachable},
		"TLS blocked by an appliance": {
			message: failedToPull(acrRef, unpack(acrRef, head+"net/http: TLS handshake timeout")), want: PullUnreachable},
		"the kubelet's own deadline": {
			message: failedToPull(acrRef, "rpc error: code = DeadlineExceeded desc = context deadline exceeded"), want: PullUnreachable},
		"a private Docker Hub image without imagePullSecrets (seed 001 sample 4)": {
			message: failedToPull("akhan2017/nginx", unpack("docker.io/akhan2017/nginx:latest", "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")),
			want:    PullExternalAuth, host: "docker.io", repo: "akhan2017/nginx", tag: "latest"},
		"a Docker Hub official image by its short name": {
			message: failedToPull("nginx:1.27", unpack("docker.io/library/nginx:1.27", "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")),
			want:    PullExternalAuth, host: "docker.io", repo: "library/nginx", tag: "1.27"},
		"a node on Docker Engine": {
			message: failedToPull("akhan2017/nginx", "rpc error: code = Unknown desc = Error response from daemon: pull access denied for akhan2017/nginx, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"),
			want:    PullExternalAuth},
		"a private registry with basic auth": {
			message: failedToPull("registry.example.com:5000/app:1.0", unpack("registry.example.com:5000/app:1.0", "unexpected status from HEAD request to https://registry.example.com:5000/v2/app/manifests/1.0: 401 Unauthorized")),
			want:    PullExternalAuth, host: "registry.example.com:5000", repo: "app", tag: "1.0"},
		"an image without a manifest for the node's platform": {
			message: failedToPull(acrRef, `rpc error: code = NotFound desc = failed to pull and unpack image "`+acrRef+`": no match for platform in manifest: not found`), want: PullWrongPlatform},
		"Kubernetes 1.32+'s back-off message carrying the error": {
			message: `Back-off pulling image "` + acrRef + `": ErrImagePull: [` + oauth16 + ", " + anon16 + "]", want: PullCredentialsRefused, anonymous: true},
		"a digest reference": {
			message: failedToPull("podidacr.azurecr.io/app@sha256:0123", "rpc error: code = NotFound desc = "+unpack("podidacr.azurecr.io/app@sha256:0123", "podidacr.azurecr.io/app@sha256:0123: not found")),
			want:    PullNotFound, repo: "app", tag: "sha256:0123"},
		"something else": {
			message: failedToPull(acrRef, "failed to extract layer: no space left on device"), want: PullUnknown},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := ClassifyPull(tc.message)
			if !ok {
				t.Fatalf("ClassifyPull did not read %q", tc.message)
			}
			if got.Cause != tc.want || got.AnonymousFallback != tc.anonymous || got.ClientIP != tc.clientIP {
				t.Errorf("got cause %s, anonymous fallback %v, client IP %q; want %s, %v, %q", got.Cause, got.AnonymousFallback, got.ClientIP, tc.want, tc.anonymous, tc.clientIP)
			}
			if (tc.host != "" && got.Host != tc.host) || (tc.repo != "" && got.Repository != tc.repo) || (tc.tag != "" && got.Tag != tc.tag) {
				t.Errorf("reference split into %q %q %q; want %q %q %q", got.Host, got.Repository, got.Tag, tc.host, tc.repo, tc.tag)
			}
			if acr := strings.HasSuffix(got.Host, ".azurecr.io"); acr != got.ACR || (acr && got.Registry != "podidacr") {
				t.Errorf("host %s: ACR %v, registry %q", got.Host, got.ACR, got.Registry)
			}
		})
	}
}

// Messages that are about pulls but carry no error, and other events,
// are not read as failures.
func TestPullClassifyIgnoresMessagesWithoutAnError(t *testing.T) {
	for _, m := range []string{
		`Back-off pulling image "` + acrRef + `"`,
		"Error: ErrImagePull",
		"Error: ImagePullBackOff",
		`Pulling image "` + acrRef + `"`,
		"Liveness probe failed: HTTP probe failed with statuscode: 500",
	} {
		if got, ok := ClassifyPull(m); ok {
			t.Errorf("ClassifyPull(%q) = %+v; want nothing", m, got)
		}
	}
}
