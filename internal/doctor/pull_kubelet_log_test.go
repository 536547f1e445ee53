package doctor

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// spImage is the pod's image; the kubelet names it to its provider (and
// in its log) without the tag.
const (
	spImage    = "podidacr.azurecr.io/busybox:latest"
	spLogImage = "podidacr.azurecr.io/busybox"
)

// spFailure is what podid acr-credential-provider writes to stderr for an
// expired service-principal secret, as the kubelet wraps it.
const spFailure = "error execing credential provider plugin acr-credential-provider for image " + spLogImage + ": exit status 1: podid: get credentials for image " + spLogImage +
	": aad-token: Azure AD refused the token: invalid_client: AADSTS7000222: The provided client secret keys for app '0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret." +
	"\ncause: the client secret of the kubelet's service principal 0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f has expired (AADSTS7000222)" +
	"\nfix: create a new secret (az ad app credential reset --id 0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f --append) and give it to the cluster"

func TestParseCredentialFailuresReadsBothOfKlogsForms(t *testing.T) {
	// What kubelet 1.34 wrote on the real node (klog.Errorf).
	plain := "E1203 16:46:35.423868   12493 plugin.go:520] " + credentialFailureText + ": " + spFailure + "\n"
	multi := "E1203 16:40:01.123456   4242 plugin.go:289] \"" + credentialFailureText + "\" err=<\n\t" + strings.ReplaceAll(spFailure, "\n", "\n\t") + "\n >\n"
	quoted := "E1203 16:40:01.123456   4242 plugin.go:289] \"" + credentialFailureText + "\" err=" + strconv.Quote(spFailure) + "\n"
	for name, log := range map[string]string{"klog.Errorf's text, going on in lines without header": plain, "err=< … > over several lines": multi, "a quoted err=\"…\" on one line": quoted} {
		t.Run(name, func(t *testing.T) {
			log = "I1203 16:40:00.000000   4242 kubelet.go:1] \"Starting\"\n" + log + "I1203 16:40:02.000000   4242 kubelet.go:2] \"Next\"\n"
			got := ParseCredentialFailures(log)
			if got[spLogImage] != spFailure || len(got) != 1 {
				t.Fatalf("failures = %q\nwant for %s:\n%s", got, spLogImage, spFailure)
			}
		})
	}
	if got := ParseCredentialFailures("I1203 \"Pulling image\" image=\"" + spImage + "\"\n"); len(got) != 0 {
		t.Fatalf("a log without provider failures gives %q", got)
	}
}

// An ACR's anonymous 401 under podid up, with the kubelet's log saying its
// provider failed on an expired service-principal secret: the doctor says
// so and prints podid's secret reset.
func TestImagePullNamesTheProviderFailureFromTheKubeletLog(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "kubelet.log")
	log := "E1203 16:46:35.423868   12493 plugin.go:520] " + credentialFailureText + ": " + spFailure + "\nI1203 16:46:36.000000   12493 kubelet.go:2] \"Next\"\n"
	if err := os.WriteFile(logFile, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	event := failedToPull(spImage, unpack(spImage, "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"))
	p := pullPod("p", spImage, "ErrImagePull")
	p.Spec.NodeName = "node-0"
	f := facts(p, kubeletEvent("p", "Failed", event))
	f.Nodes = nil
	f.Supervised = &Supervised{StateDir: "/run/podid", Kubelets: map[string]Process{"node-0": {Name: "kubelet node-0", Log: logFile}}}
	gatherKubeletLogs(f)
	got := Run(f, []Check{CheckFunc{CheckName: "image-pull", Fn: checkImagePull}}).Findings
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(got), got)
	}
	fd := got[0]
	for _, want := range []string{"no credentials because its credential provider failed", "has expired (AADSTS7000222)"} {
		if !strings.Contains(fd.Message, want) {
			t.Errorf("message %q lacks %q", fd.Message, want)
		}
	}
	if want := "podid cloud sp credential reset --state-dir /run/podid --id 0c5d3f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f --append"; !strings.HasPrefix(fd.Fix, want) {
		t.Errorf("fix %q, want it to start with %q", fd.Fix, want)
	}
	if ev := strings.Join(fd.Evidence, "\n"); !strings.Contains(ev, "kubelet log of node node-0: "+credentialFailureText) || !strings.Contains(ev, "AADSTS7000222: The provided client secret keys") {
		t.Errorf("evidence lacks the kubelet's log line:\n%s", ev)
	}
}
