package doctor

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// kubeletLogTail is how much of the end of a kubelet's log the doctor
// reads: the failures that matter are the latest.
const kubeletLogTail = 4 << 20

// credentialFailureText is how the kubelet logs a failed image credential
// provider (pkg/credentialprovider/plugin); the pull then goes on without
// credentials, and the pod's events show only the registry's 401.
const credentialFailureText = "Failed getting credential from external registry credential provider"

var (
	// credentialImageRE finds the image in the kubelet's wrapper:
	// "error execing credential provider plugin NAME for image IMAGE: …".
	credentialImageRE = regexp.MustCompile(`credential provider plugin \S+ for image (\S+?): `)
	// expiredAppRE is the app ID in Azure AD's AADSTS7000222 text.
	expiredAppRE = regexp.MustCompile(`AADSTS7000222: The provided client secret keys for app '([^']+)' are expired`)
)

// gatherKubeletLogs reads the credential provider failures from the logs
// of the kubelets a podid up run supervises (on AKS the same lines are in
// each node's journal, which the doctor cannot read).
func gatherKubeletLogs(f *Facts) {
	s := f.Supervised
	if s == nil || len(s.Kubelets) == 0 {
		return
	}
	s.CredentialFailures = map[string]map[string]string{}
	for node, p := range s.Kubelets {
		if p.Log == "" {
			continue
		}
		text, err := readTail(p.Log, kubeletLogTail)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Sprintf("could not read the kubelet's log of node %s: %v", node, err))
			continue
		}
		if fails := ParseCredentialFailures(text); len(fails) > 0 {
			s.CredentialFailures[node] = fails
		}
	}
}

// readTail is the last n bytes of the file at path.
func readTail(path string, n int64) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return "", err
	}
	if st.Size() > n {
		if _, err := fh.Seek(st.Size()-n, io.SeekStart); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(fh)
	return string(b), err
}

// ParseCredentialFailures reads a kubelet's klog text and returns, by
// image (as the kubelet names it to the provider, without the tag), the
// error of the latest credential provider failure for it. The kubelet
// writes it with klog.Errorf ("… provider: <error>", a multi-line error
// going on in lines without a klog header); a structured logger writes
// err="…" (Go-quoted) or err=< then tab-indented lines up to " >". All
// three are read.
func ParseCredentialFailures(log string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(log, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		at := strings.Index(line, credentialFailureText)
		if at < 0 {
			continue
		}
		rest := line[at+len(credentialFailureText):]
		var msg string
		switch {
		case strings.HasPrefix(rest, ": "):
			body := []string{strings.TrimPrefix(rest, ": ")}
			for i+1 < len(lines) && lines[i+1] != "" && !klogHeaderRE.MatchString(lines[i+1]) {
				i++
				body = append(body, lines[i])
			}
			msg = strings.Join(body, "\n")
		case strings.Contains(rest, ` err="`):
			_, q, _ := strings.Cut(rest, ` err=`)
			q, err := strconv.QuotedPrefix(q)
			if err != nil {
				continue
			}
			msg, _ = strconv.Unquote(q)
		case strings.Contains(rest, ` err=<`):
			var body []string
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
				i++
				body = append(body, strings.TrimPrefix(lines[i], "\t"))
			}
			msg = strings.Join(body, "\n")
		default:
			continue
		}
		if m := credentialImageRE.FindStringSubmatch(msg); m != nil {
			out[m[1]] = strings.TrimSpace(msg)
		}
	}
	return out
}

// klogHeaderRE is the start of a klog line: severity, date, time, thread,
// file:line.
var klogHeaderRE = regexp.MustCompile(`^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ \S+:\d+\] `)

// credentialFailure is what the kubelet of the pod's node logged the last
// time its credential provider failed for the pod's image, or "".
func credentialFailure(f *Facts, pp podPull) string {
	if f.Supervised == nil {
		return ""
	}
	fails := f.Supervised.CredentialFailures[pp.pod.Spec.NodeName]
	// The kubelet names the image to its provider without the tag; older
	// kubelets, as the pod does.
	for _, im := range []string{pp.Host + "/" + pp.Repository, pp.Image, pp.Host + "/" + pp.Repository + ":" + pp.Tag} {
		if msg, ok := fails[im]; ok {
			return msg
		}
	}
	return ""
}

// providerFailed: the kubelet offered no credentials because its
// credential provider failed; its log says why, which the pod's 401 hides.
func providerFailed(f *Facts, pp podPull, fd *Finding, failure string) {
	lines := strings.Split(failure, "\n")
	cause, fix := "", ""
	for _, l := range lines[1:] {
		if c, ok := strings.CutPrefix(l, "cause: "); ok {
			cause = c
		}
		if x, ok := strings.CutPrefix(l, "fix: "); ok {
			fix = x
		}
	}
	fd.Evidence = append(fd.Evidence, fmt.Sprintf("kubelet log of node %s: %s: %s", pp.pod.Spec.NodeName, credentialFailureText, lines[0]))
	if cause == "" {
		cause = "see the kubelet's log line in the evidence"
	}
	fd.Message = fmt.Sprintf("the kubelet offered registry %s no credentials because its credential provider failed: %s", pp.Registry, cause)
	fd.Fix = fix
	if m := expiredAppRE.FindStringSubmatch(failure); m != nil && f.Supervised != nil {
		// Under podid up the cloud's own verb makes the secret; the
		// nodes' azure.json then needs it, as az aks update-credentials
		// writes it on AKS.
		fd.Fix = fmt.Sprintf("podid cloud sp credential reset --state-dir %s --id %s --append, then put its password in aadClientSecret of each node's azure.json (on AKS: az aks update-credentials --reset-service-principal --service-principal %s --client-secret <password>)",
			f.Supervised.StateDir, m[1], m[1])
	}
	if fd.Fix == "" {
		fd.Fix = fmt.Sprintf("podid check-acr --image %s   # on node %s, with its azure.json", pp.Image, pp.pod.Spec.NodeName)
	}
}
