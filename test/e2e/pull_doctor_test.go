package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/image"
)

// Seed 001's samples on the real node, each with its own pod, and podid
// doctor naming each cause from the kubelet's own event, confirmed from
// the embedded cloud, with the fix that makes the pod run:
//
//  1. the registry detached: 401; the doctor says the kubelet identity has
//     no role that allows pull and prints podid cloud acr attach;
//  2. a wrong tag: NotFound beside a misleading 401; the doctor says the
//     tag is not there, names the tag the node has pulled, and its fix
//     (kubectl set image) makes the pod run;
//  3. AcrPull revoked with podid cloud role revoke (az role assignment
//     delete): 401 again, the same diagnosis; podid cloud role grant and
//     the pod runs;
//  4. the registry's firewall (seed 000's 403): the doctor names the
//     address the registry refused, and its podid cloud acr network-rule
//     add makes the pod run.
//
// Seed 001's fourth sample, a private Docker Hub image without
// imagePullSecrets, needs a registry that asks for credentials, which
// podid up's loopback registry does not: TestPullDoctorPrivateHub runs it
// against one of its own (pull_doctor_more_test.go), as
// TestPullDoctorExpiredSP runs the expired service-principal secret.
func TestPullDoctorOnTheRealNode(t *testing.T) {
	_, rec := upWithARealNode(t)
	if rec.ACR == nil || rec.ACR.Registry == "" {
		t.Fatalf("up.json records no registry: %+v", rec.ACR)
	}
	dir, reg, kubelet := rec.StateDir, rec.ACR.Registry, rec.ACR.KubeletIdentity
	ref := rec.ACR.ImageRef(image.NameBusybox)
	pc := newPullCase(t, rec)
	k := pc.k
	apply := func(name, image string) {
		t.Helper()
		pc.apply(name, acrPod(name, image))
	}
	failed, doctor, running := pc.failed, pc.doctor, pc.running
	attachFix := fmt.Sprintf("fix: podid cloud acr attach --state-dir %s --registry %s --principal ", dir, reg)
	// checkACR runs podid check-acr as podid up prints it, for image, as
	// the first real node's kubelet would pull it; it must fail with want
	// in its output, or pass when want is "".
	checkACR := func(img, want string) {
		t.Helper()
		args := []string{"check-acr", "--image", img, "--azure-config", rec.ACR.AzureConfig, "--imds-endpoint", rec.ACR.IMDSEndpoint,
			"--ca-bundle", rec.CloudCA, "--front-door", rec.ACR.FrontDoor}
		r := run(t, nil, args...)
		t.Logf("$ podid check-acr --image %s … (%s, %v)\n%s%s", img, r.took.Round(time.Millisecond), r.err, r.stdout, r.stderr)
		switch {
		case want == "" && r.err != nil:
			t.Errorf("podid check-acr failed on a pull that works")
		case want != "" && (r.err == nil || !strings.Contains(r.stdout+r.stderr, want)):
			t.Errorf("podid check-acr --image %s: err %v; want a failure with %q", img, r.err, want)
		}
	}

	// 1. Detached (seed 001 sample 1, az aks update --detach-acr).
	must(t, "cloud", "acr", "detach", "--state-dir", dir, "--registry", reg, "--principal", kubelet)
	apply("detached", ref)
	ev := failed("detached", "401 Unauthorized")
	if !strings.Contains(ev, "failed to fetch oauth token") {
		t.Errorf("the kubelet's 401 does not say the registry refused the identity's token: %s", ev)
	}
	out := doctor("detached", "fail", "image-pull", "Pod default/detached", "kubelet identity "+kubelet,
		"has no role that allows pull on registry "+reg, "confirmed by the cloud", attachFix, "acr-pull-access")
	principal := fixArgument(out, attachFix)
	if principal == "" {
		principal = kubelet
	}
	t.Logf("the doctor names the kubelet identity by object ID %s", principal)
	checkACR(ref, "has no role that allows pull")
	must(t, "cloud", "acr", "attach", "--state-dir", dir, "--registry", reg, "--principal", principal)
	running("detached")
	checkACR(ref, "")

	// 2. A wrong tag (seed 001 sample 2): NotFound, and a 401 beside it.
	wrong := rec.ACR.LoginServer + "/" + image.NameBusybox + ":nope"
	apply("wrong-tag", wrong)
	ev = failed("wrong-tag", "not found")
	if !strings.Contains(ev, "code = NotFound") || !strings.Contains(ev, "401 Unauthorized") {
		t.Errorf("the kubelet's event lacks the NotFound or the misleading 401 beside it: %s", ev)
	}
	setImage := "fix: kubectl -n default set image pod/wrong-tag app=" + ref
	checkACR(wrong, "MANIFEST_UNKNOWN")
	out = doctor("wrong-tag", "image-pull", "Registry "+rec.ACR.LoginServer+" has no tag nope in repository busybox", "misleading", "tags of "+rec.ACR.LoginServer+"/busybox this cluster has pulled: latest", setImage)
	if fix := fixArgument(out, "fix: kubectl -n default set image "); fix != "" {
		args := append([]string{"-n", "default", "set", "image"}, strings.Fields(fix)...)
		if o, err := k(args...); err != nil {
			t.Fatalf("the doctor's fix kubectl %s: %v\n%s", strings.Join(args, " "), err, o)
		}
	}
	running("wrong-tag")

	// 3. AcrPull removed from the kubelet identity (seed 001 sample 3, az
	// role assignment delete).
	roleArgs := []string{"--state-dir", dir, "--principal", kubelet, "--role", "AcrPull", "--scope", "registry/" + reg}
	must(t, append([]string{"cloud", "role", "revoke"}, roleArgs...)...)
	apply("role-revoked", ref)
	failed("role-revoked", "401 Unauthorized")
	doctor("role-revoked", "image-pull", "Pod default/role-revoked", "has no role that allows pull on registry "+reg, attachFix)
	must(t, append([]string{"cloud", "role", "grant"}, roleArgs...)...)
	running("role-revoked")

	// 4. The registry's firewall (seed 000's "403 forbidden"): Premium,
	// default action Deny, as az acr update --sku Premium --default-action
	// Deny leaves it; the doctor's network rule lets the node in.
	must(t, "cloud", "acr", "update", "--state-dir", dir, "--registry", reg, "--sku", "Premium", "--default-action", "Deny")
	apply("firewalled", ref)
	ev = failed("firewalled", "403")
	ruleFix := "fix: podid cloud acr network-rule add --state-dir " + dir + " --registry " + reg + " --ip-address "
	out = doctor("firewalled", "image-pull", "Pod default/firewalled", "denies every address by default (networkRuleSet.defaultAction Deny)", "confirmed by the cloud", ruleFix)
	ip := fixArgument(out, ruleFix)
	if ip == "" || strings.HasPrefix(ip, "<") {
		t.Fatalf("the doctor names no address to let in:\n%s\nkubelet: %s", out, ev)
	}
	checkACR(ref, "403")
	must(t, "cloud", "acr", "network-rule", "add", "--state-dir", dir, "--registry", reg, "--ip-address", ip)
	running("firewalled")
}

// fixArgument is what follows prefix on the doctor's first line that
// holds it, up to the end of that line; for "… --principal " the last
// word.
func fixArgument(out, prefix string) string {
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}
