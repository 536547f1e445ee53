package acrcred

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/podid/podid/internal/tokens"
)

func TestExplain(t *testing.T) {
	msi := Facts{LoginServer: "podidacr.azurecr.io", Registry: "podidacr", Image: Image{"podidacr.azurecr.io", "app/web", "v2"},
		Managed: true, ClientID: "c1", ObjectID: "o1", IMDSEndpoint: "http://169.254.169.254"}
	sp := msi
	sp.Managed, sp.ClientID = false, "app1"
	cases := map[string]struct {
		err       error
		facts     Facts
		cause     string // substrings that must appear
		fix       string
		fixAbsent bool
	}{
		"a 401 for the pull token means no role, and attach fixes it": {
			err:   stepErr(StepPullToken, &RegistryError{Status: 401, Code: "UNAUTHORIZED", Message: "authentication required"}),
			facts: msi, cause: "object ID o1) has no role that allows pull on registry podidacr",
			fix: "podid cloud acr attach --registry podidacr --principal o1"},
		"a 401 at the manifest is the same missing role": {
			err:   stepErr(StepManifest, &RegistryError{Status: 401, Code: "UNAUTHORIZED"}),
			facts: msi, cause: "no role that allows pull", fix: "az aks update --attach-acr podidacr"},
		"MANIFEST_UNKNOWN names the tag and how to list tags": {
			err:   stepErr(StepManifest, &RegistryError{Status: 404, Code: "MANIFEST_UNKNOWN", Message: `manifest tagged by "v2" is not found`}),
			facts: msi, cause: `the tag "v2" does not exist in repository app/web of podidacr.azurecr.io (MANIFEST_UNKNOWN`,
			fix: "az acr repository show-tags --name podidacr --repository app/web"},
		"NAME_UNKNOWN names the repository": {
			err:   stepErr(StepManifest, &RegistryError{Status: 404, Code: "NAME_UNKNOWN"}),
			facts: msi, cause: "repository app/web does not exist in podidacr.azurecr.io (NAME_UNKNOWN)", fix: "az acr repository list --name podidacr"},
		"a firewall 403 at the exchange gives the network-rule fix with the refused IP": {
			err:   stepErr(StepExchange, &RegistryError{Status: 403, Code: "DENIED", Message: "client with IP '10.1.2.3' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."}),
			facts: msi, cause: "the network rules of registry podidacr refuse this node's address 10.1.2.3 (403 DENIED)",
			fix: "az acr network-rule add --name podidacr --ip-address 10.1.2.3"},
		"a firewall 403 at the pull token is the firewall too, not the role": {
			err:   stepErr(StepPullToken, &RegistryError{Status: 403, Code: "DENIED", Message: "client with IP '1.2.3.4' is not allowed access."}),
			facts: msi, cause: "network rules", fix: "network-rule add"},
		"an unresolvable login server gives the private DNS fix": {
			err:   stepErr(StepDNS, &net.DNSError{Err: "no such host", Name: "podidacr.azurecr.io", IsNotFound: true}),
			facts: msi, cause: "podidacr.azurecr.io does not resolve from this node (no such host)",
			fix: "link the private DNS zone privatelink.azurecr.io to the node's virtual network"},
		"a DNS failure inside the challenge is explained the same way": {
			err:   stepErr(StepChallenge, fmt.Errorf("reach registry endpoint: %w", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "podidacr.azurecr.io", IsNotFound: true}})),
			facts: msi, cause: "does not resolve", fix: "168.63.129.16"},
		"a refused connection to the registry is the network": {
			err:   stepErr(StepChallenge, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}),
			facts: msi, cause: "this node cannot reach podidacr.azurecr.io", fix: "allow outbound TCP 443"},
		"an unreachable IMDS is not blamed on the registry": {
			err:   stepErr(StepAADToken, &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}),
			facts: msi, cause: "the instance metadata service at http://169.254.169.254 is unreachable", fix: "--imds-endpoint"},
		"IMDS without the identity on the node says to assign it": {
			err:   stepErr(StepAADToken, &tokens.Error{Status: 400, Code: "invalid_request", Description: "Identity not found"}),
			facts: msi, cause: "IMDS does not know the kubelet identity c1 on this node", fix: "az vmss identity assign"},
		"an expired service principal secret is AADSTS7000222 with the reset": {
			err:   stepErr(StepAADToken, &tokens.Error{Status: 401, Code: "invalid_client", Description: "AADSTS7000222: The provided client secret keys for app 'app1' are expired."}),
			facts: sp, cause: "the client secret of the kubelet's service principal app1 has expired (AADSTS7000222)",
			fix: "az aks update-credentials -g <resource group> -n <cluster> --reset-service-principal --service-principal app1"},
		"a wrong service principal secret": {
			err:   stepErr(StepAADToken, &tokens.Error{Status: 401, Code: "invalid_client", Description: "AADSTS7000215: Invalid client secret provided."}),
			facts: sp, cause: "aadClientSecret in azure.json is not a secret of service principal app1 (AADSTS7000215)", fix: "--reset-service-principal"},
		"a registry that does not exist answers 404 to the challenge": {
			err:   stepErr(StepChallenge, &RegistryError{Status: 404, Code: "HostNotFound"}),
			facts: msi, cause: "no registry answers at podidacr.azurecr.io (404)", fix: "az acr show --name podidacr"},
		"an untrusted certificate names the CA bundle": {
			err:   stepErr(StepChallenge, &url.Error{Op: "Get", URL: "https://podidacr.azurecr.io/v2/", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}),
			facts: msi, cause: "the server's TLS certificate is not trusted", fix: "--ca-bundle"},
		"a bad azure.json says to fix the file": {
			err:   errors.New("azure.json: unknown Azure cloud name \"Mars\""),
			facts: Facts{}, cause: "unknown Azure cloud name", fix: "fix azure.json"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Explain(tc.err, tc.facts)
			if !strings.Contains(got.Cause, tc.cause) || !strings.Contains(got.Fix, tc.fix) {
				t.Fatalf("Explain =\ncause %q\nfix   %q\nwant cause ⊇ %q, fix ⊇ %q", got.Cause, got.Fix, tc.cause, tc.fix)
			}
		})
	}
}
