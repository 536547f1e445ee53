package acrcred

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/podid/podid/internal/tokens"
)

// Status is a check step's outcome.
type Status string

// Outcomes of a step.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is one step of Check.
type Result struct {
	Step   Step
	Status Status
	// Detail is what the step saw, in one line.
	Detail string
	// Finding is the cause and fix of a Fail.
	Finding Finding
}

// ResolveTarget decides what check-acr checks from its argument (a
// registry name or login server; may be empty) and --image (may be
// empty): the login server, and the image when one is named, with a
// mirrored registry replaced by its ACR as the provider does. suffix
// completes a bare registry name (".azurecr.io"); a login server outside
// suffixes is refused, since the provider answers nothing for it.
func ResolveTarget(arg, image, suffix string, suffixes []string, mirrors []Mirror) (string, *Image, error) {
	var im *Image
	if image != "" {
		parsed, err := ParseImage(image)
		if err != nil {
			return "", nil, fmt.Errorf("--image: %w", err)
		}
		if parsed.Registry == "" {
			return "", nil, fmt.Errorf("--image %q names no registry; write it as the pod does, e.g. myacr%s/app:v1", image, suffix)
		}
		if t, ok, _ := TargetOf(image, mirrors, suffixes); ok {
			parsed.Registry = t.LoginServer
		}
		im = &parsed
	}
	login := strings.ToLower(arg)
	if login != "" && !strings.Contains(login, ".") {
		login += suffix
	}
	switch {
	case login == "" && im == nil:
		return "", nil, fmt.Errorf("name a registry (podid check-acr myacr%s) or an image (--image myacr%s/app:v1)", suffix, suffix)
	case login == "":
		login = im.Registry
	case im != nil && im.Registry != login:
		return "", nil, fmt.Errorf("--image %s is not in registry %s; drop the argument or name the image's registry", image, login)
	}
	if !IsACRHost(login, suffixes) {
		return "", nil, fmt.Errorf("%s is not an Azure Container Registry login server (%s): the credential provider answers no credentials for it", login, strings.Join(suffixes, ", "))
	}
	return login, im, nil
}

// ConfigResult is the azure.json step: the identity it names, or why it
// cannot be used.
func ConfigResult(path string, cfg AzureConfig, err error) Result {
	if err != nil {
		return Result{Step: StepConfig, Status: Fail, Detail: path, Finding: Explain(err, Facts{})}
	}
	d := cfg.Describe()
	if cfg.TenantID != "" {
		d += " in tenant " + cfg.TenantID
	}
	return Result{Step: StepConfig, Status: Pass, Detail: d}
}

// Check walks the pull path for loginServer as the kubelet and the
// container runtime would, step by step, stopping at the first failure.
// With im it also asks for a repository:<repo>:pull token and fetches the
// manifest; without, it stops after the exchange.
func (c *Client) Check(ctx context.Context, loginServer string, im *Image) []Result {
	var out []Result
	image := Image{Registry: loginServer}
	if im != nil {
		image = *im
	}
	var objectID string
	failed := Step("")
	run := func(s Step, f func() (string, error)) {
		if failed != "" {
			out = append(out, Result{Step: s, Status: Skip, Detail: "not run: " + string(failed) + " failed"})
			return
		}
		detail, err := f()
		if err != nil {
			failed = s
			out = append(out, Result{Step: s, Status: Fail, Detail: err.Error(), Finding: Explain(stepErr(s, err), c.facts(loginServer, image, objectID))})
			return
		}
		out = append(out, Result{Step: s, Status: Pass, Detail: detail})
	}
	if c.frontDoor != "" {
		out = append(out, Result{Step: StepDNS, Status: Skip, Detail: "connections go to the front door " + c.frontDoor + " (--front-door); names are not resolved"})
	} else {
		run(StepDNS, func() (string, error) {
			addrs, err := c.lookup(ctx, loginServer)
			if err != nil {
				return "", err
			}
			return loginServer + " resolves to " + describeAddrs(addrs), nil
		})
	}
	var ch ChallengeInfo
	run(StepChallenge, func() (string, error) {
		var err error
		ch, err = c.registry.Challenge(ctx, loginServer)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("GET https://%s/v2/ answered 401 Bearer realm=%q service=%q", loginServer, ch.Realm, ch.Service), nil
	})
	var aad string
	run(StepAADToken, func() (string, error) {
		tok, err := c.aadToken(ctx)
		if err != nil {
			return "", err
		}
		aad = tok.AccessToken
		objectID, _ = tokens.ObjectIDOf(aad)
		return fmt.Sprintf("token for %s as the %s (object ID %s)", ACRResource, c.cfg.Describe(), orText(objectID, "unknown")), nil
	})
	var refresh string
	run(StepExchange, func() (string, error) {
		rt, exp, err := c.registry.Exchange(ctx, ch, c.cfg.TenantID, aad)
		if err != nil {
			return "", err
		}
		refresh = rt
		d := "refresh token issued"
		if !exp.IsZero() {
			d += ", valid until " + exp.UTC().Format("2006-01-02T15:04:05Z")
		}
		return d, nil
	})
	if im == nil {
		for _, s := range []Step{StepPullToken, StepManifest} {
			if failed == "" {
				out = append(out, Result{Step: s, Status: Skip, Detail: "no --image: name one to check the repository token and the manifest"})
			} else {
				out = append(out, Result{Step: s, Status: Skip, Detail: "not run: " + string(failed) + " failed"})
			}
		}
		return out
	}
	scope := "repository:" + im.Repository + ":pull"
	var access string
	run(StepPullToken, func() (string, error) {
		tok, err := c.registry.AccessToken(ctx, ch, refresh, scope)
		if err != nil {
			return "", err
		}
		if !grantsPull(tok, im.Repository) {
			return "", &RegistryError{Call: "GET " + ch.Realm, Status: 401, Code: "UNAUTHORIZED", Message: "the access token does not grant " + scope}
		}
		access = tok
		return "access token grants " + scope, nil
	})
	run(StepManifest, func() (string, error) {
		digest, err := c.registry.Manifest(ctx, *im, access)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s found (%s)", im, orText(digest, "no digest header")), nil
	})
	return out
}

// describeAddrs lists addresses, marking private ones (a private endpoint).
func describeAddrs(addrs []string) string {
	var parts []string
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		switch {
		case err == nil && ip.IsPrivate():
			parts = append(parts, a+" (private: a private endpoint)")
		case err == nil && ip.IsLoopback():
			parts = append(parts, a+" (loopback)")
		default:
			parts = append(parts, a+" (public)")
		}
	}
	return strings.Join(parts, ", ")
}

// grantsPull reads an ACR access token's access claim (unverified: the
// registry checks it; this only spots a token that grants nothing).
func grantsPull(tok, repo string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return true // not a JWT: let the manifest request decide
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return true
	}
	var c struct {
		Access *[]struct {
			Type    string   `json:"type"`
			Name    string   `json:"name"`
			Actions []string `json:"actions"`
		} `json:"access"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Access == nil {
		return true
	}
	for _, a := range *c.Access {
		if a.Type == "repository" && a.Name == repo && (slices.Contains(a.Actions, "pull") || slices.Contains(a.Actions, "*")) {
			return true
		}
	}
	return false
}

// Verdict is check-acr's last line and whether the pull path works.
func Verdict(results []Result, loginServer string, im *Image) (string, bool) {
	for _, r := range results {
		if r.Status == Fail {
			what := loginServer
			if im != nil {
				what = im.String()
			}
			return fmt.Sprintf("The kubelet cannot pull %s: the %s step failed (see its cause and fix above).", what, r.Step), false
		}
	}
	if im == nil {
		return fmt.Sprintf("The kubelet identity signs in to %s. Name an image with --image to check that it may pull it: the sign-in succeeds for any identity.", loginServer), true
	}
	return fmt.Sprintf("The kubelet can pull %s.", im), true
}

// Format writes the results one line each, a failure's cause and fix
// indented below it, then the verdict.
func Format(results []Result, verdict string) string {
	var b strings.Builder
	for _, r := range results {
		detail, _, _ := strings.Cut(r.Detail, "\n")
		fmt.Fprintf(&b, "%-4s  %-10s  %s\n", r.Status, r.Step, strings.TrimSpace(detail))
		if r.Status == Fail {
			if r.Finding.Cause != "" {
				fmt.Fprintf(&b, "      cause: %s\n", r.Finding.Cause)
			}
			if r.Finding.Fix != "" {
				fmt.Fprintf(&b, "      fix:   %s\n", r.Finding.Fix)
			}
		}
	}
	b.WriteString("\n" + verdict + "\n")
	return b.String()
}
