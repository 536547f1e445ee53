package e2e

import (
	"strings"
	"testing"

	"github.com/podid/podid/internal/image"
)

// privateHubHost is the name images of the private registry carry. The
// .test domain is reserved (RFC 2606): it never resolves, so a lookup that
// escaped the hosts.toml mapping would fail rather than leave the machine
// with an answer.
const privateHubHost = "hub.private.test"

// Seed 001 sample 4 on the real node: a private registry standing in for
// Docker Hub (privateRegistry, Docker Hub's token auth), reached by the
// real node's containerd under hub.private.test through podid up
// --node-registry. A pod without imagePullSecrets gets the kubelet's real
// "pull access denied … insufficient_scope: authorization failed"; podid
// doctor says the registry wants credentials the pod does not give and
// prints the docker-registry Secret and imagePullSecrets fix; that fix,
// run as printed with the registry's user and password in place of its
// placeholders, makes the pod run, pulling with the Secret's credentials.
func TestPullDoctorPrivateHub(t *testing.T) {
	hub := startPrivateRegistry(t, privateHubHost)
	_, rec := upWithARealNodeArgs(t, "--node-registry", privateHubHost+"="+hub.URL)
	ref := hub.copyFrom(t, image.Ref(rec.ImageRegistry, image.NameBusybox, image.DefaultTag), "team/busybox", "latest")
	pc := newPullCase(t, rec)
	// The push above used the account; count only the kubelet's tokens.
	anon0, user0 := hub.AnonymousTokens.Load(), hub.UserTokens.Load()

	pc.apply("private-hub", acrPod("private-hub", ref))
	ev := pc.failed("private-hub", "authorization failed")
	for _, w := range []string{`Failed to pull image "` + ref + `"`, "pull access denied, repository does not exist or may require authorization", "insufficient_scope"} {
		if !strings.Contains(ev, w) {
			t.Errorf("the kubelet's event lacks %q: %s", w, ev)
		}
	}
	if anon, user := hub.AnonymousTokens.Load()-anon0, hub.UserTokens.Load()-user0; user != 0 || anon == 0 {
		t.Errorf("the registry gave the node %d anonymous and %d user tokens; a pull without a secret gets only anonymous ones", anon, user)
	}
	secretFix := "fix: kubectl -n default create secret docker-registry regcred-hub-private-test --docker-server=" + privateHubHost +
		" --docker-username=<user> --docker-password=<token>"
	out := pc.doctor("private-hub", "image-pull", "Pod default/private-hub",
		"Registry "+privateHubHost+" refused to let the kubelet pull team/busybox without credentials, and the pod has no imagePullSecrets",
		secretFix, `patch serviceaccount default -p '{"imagePullSecrets":[{"name":"regcred-hub-private-test"}]}'`)

	// The fix as the doctor prints it, with the account in place of the
	// placeholders: the Secret, the ServiceAccount's imagePullSecrets (so
	// the pod created again gets them), the pod created again.
	start := strings.TrimPrefix(secretFix, "fix: ")
	rest := fixArgument(out, start)
	if !strings.HasPrefix(rest, "&& ") {
		t.Fatalf("the doctor prints no fix that goes on from the Secret to imagePullSecrets:\n%s", out)
	}
	fix := start + " " + rest
	t.Logf("applying the doctor's fix: %s", fix)
	pc.shell(strings.NewReplacer("<user>", hub.User, "<token>", hub.Password).Replace(fix))
	pc.running("private-hub")
	if secrets, _ := pc.k("get", "pod", "private-hub", "-o", "jsonpath={.spec.imagePullSecrets[*].name}"); secrets != "regcred-hub-private-test" {
		t.Errorf("the pod created again has imagePullSecrets %q; want the doctor's Secret", secrets)
	}
	if hub.UserTokens.Load() == user0 {
		t.Error("the pod runs, yet the registry gave no token for the Secret's account: the pull did not use it")
	}
}
