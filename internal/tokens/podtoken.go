package tokens

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// maxAssertionBytes bounds a projected token read from disk; Kubernetes
// service-account tokens are a few kilobytes.
const maxAssertionBytes = 64 << 10

type podTokenSource struct{ aad *aadClient }

var _ TokenSource = (*podTokenSource)(nil)

// NewPodToken returns a source that exchanges the calling pod's own
// projected service-account token (workload identity) at AAD for a token of
// the requested client ID. The token is read from Identity.AssertionFile at
// every exchange, because the kubelet rewrites the file before the token
// expires. AAD decides: it answers only if a federated credential of the
// client trusts the pod's service account, so the pod's identity is proven
// by its token, not by its address.
func NewPodToken(opts AADOptions) (TokenSource, error) {
	a, err := newAADClient(opts)
	if err != nil {
		return nil, fmt.Errorf("pod token source: %w", err)
	}
	return &podTokenSource{aad: a}, nil
}

func (s *podTokenSource) Token(ctx context.Context, req Request) (Token, error) {
	if req.Identity.ClientID == "" {
		return Token{}, errors.New("workload identity " + req.Identity.Name + " has no client ID to exchange for: annotate its service account with azure.workload.identity/client-id")
	}
	endpoint, err := s.aad.tokenEndpoint(req.Identity)
	if err != nil {
		return Token{}, err
	}
	jwt, err := readAssertion(req.Identity.AssertionFile)
	if err != nil {
		return Token{}, err
	}
	return s.aad.post(ctx, endpoint, req, assertionForm(jwt))
}

// readAssertion reads a projected token file.
func readAssertion(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read the pod's projected service-account token: %w", err)
	}
	defer f.Close()
	b := make([]byte, maxAssertionBytes+1)
	n, err := f.Read(b)
	if err != nil {
		return "", fmt.Errorf("read the pod's projected service-account token %s: %w", path, err)
	}
	if n > maxAssertionBytes {
		return "", fmt.Errorf("the pod's projected service-account token %s is larger than %d bytes", path, maxAssertionBytes)
	}
	jwt := strings.TrimSpace(string(b[:n]))
	if jwt == "" {
		return "", fmt.Errorf("the pod's projected service-account token %s is empty", path)
	}
	return jwt, nil
}

// workloadNamePrefix starts the Name of a workload-identity pod's identity.
const workloadNamePrefix = "serviceaccount/"

// WorkloadIdentityName names the identity of pods running as service
// account namespace/account: tokens are cached per account, the subject
// Azure AD's federated credentials trust.
func WorkloadIdentityName(namespace, account string) string {
	return workloadNamePrefix + namespace + "/" + account
}

// WorkloadAccount returns the service account of a workload-identity pod's
// identity (ok false for any other identity).
func (i Identity) WorkloadAccount() (namespace, account string, ok bool) {
	rest, found := strings.CutPrefix(i.Name, workloadNamePrefix)
	if !found || i.AssertionFile == "" {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

// workloadCauses are refusals whose explanation differs for a
// workload-identity pod: the pod's own account is what Azure AD checks.
var workloadCauses = map[string]Explanation{
	"AADSTS70021": {Cause: "no federated credential of the client ID trusts this service account's tokens (issuer, subject and audience are compared exactly)",
		Fix: "az identity federated-credential create --identity-name <identity> --resource-group <group> --issuer <the cluster's service-account issuer> --subject system:serviceaccount:<namespace>:<account> --audiences api://AzureADTokenExchange (podid cloud identity federated-credential create takes the same arguments); podid migrate prints it for pod-identity workloads"},
	"AADSTS700016": {Cause: "no application with the service account's client ID exists in the tenant",
		Fix: "fix the azure.workload.identity/client-id (and tenant-id) annotation of the service account, then recreate the pod"},
}

// ExplainFor is Explain for a refusal of id's token: a workload-identity
// pod's refusal names its service account's fix.
func ExplainFor(id Identity, err error) (Explanation, bool) {
	e, ok := Explain(err)
	if !ok {
		return e, false
	}
	if _, _, wi := id.WorkloadAccount(); wi {
		if w, known := workloadCauses[e.Code]; known {
			w.Code = e.Code
			return w, true
		}
	}
	return e, true
}
