package acrcred

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/podid/podid/internal/tokens"
)

// Step is one step of the image-pull path, named as check-acr prints it.
type Step string

// The steps, in the order a pull takes them.
const (
	// StepConfig reads azure.json.
	StepConfig Step = "azure.json"
	// StepDNS resolves the login server.
	StepDNS Step = "dns"
	// StepChallenge is GET /v2/ and its Bearer challenge.
	StepChallenge Step = "challenge"
	// StepAADToken gets the node identity's Azure AD token.
	StepAADToken Step = "aad-token"
	// StepExchange trades it for an ACR refresh token.
	StepExchange Step = "exchange"
	// StepPullToken asks for a repository:<repo>:pull access token.
	StepPullToken Step = "pull-token"
	// StepManifest fetches the image's manifest.
	StepManifest Step = "manifest"
)

// Facts are what an explanation names.
type Facts struct {
	LoginServer string
	// Registry is the registry's name (the login server's first label).
	Registry string
	Image    Image
	// Managed is true for a managed identity, false for a service principal.
	Managed bool
	// ClientID is the identity's client (app) ID; ObjectID its object ID
	// when a token has shown it.
	ClientID, ObjectID string
	IMDSEndpoint       string
}

// principal is the best name for the identity in a fix.
func (f Facts) principal() string {
	if f.ObjectID != "" {
		return f.ObjectID
	}
	return "<kubelet identity object ID>"
}

// Finding is why a step failed and what to do.
type Finding struct {
	Cause, Fix string
}

var (
	deniedIP   = regexp.MustCompile(`client with IP '([^']+)'`)
	aadstsCode = regexp.MustCompile(`AADSTS\d+`)
)

// Explain says why err (a failure of the pull path, usually a *StepError)
// happened and what fixes it. It only reads err's values; it does no I/O.
func Explain(err error, f Facts) Finding {
	step := StepConfig
	var se *StepError
	if errors.As(err, &se) {
		step = se.Step
	}
	if fd, ok := explainNetwork(err, step, f); ok {
		return fd
	}
	if re, ok := AsRegistryError(err); ok {
		if re.Status == http.StatusForbidden || re.Code == "DENIED" {
			return firewall(re, f)
		}
		switch step {
		case StepChallenge:
			if re.Status == http.StatusNotFound {
				return Finding{Cause: fmt.Sprintf("no registry answers at %s (%d)", f.LoginServer, re.Status),
					Fix: fmt.Sprintf("check the registry name: az acr show --name %s --query loginServer (with podid, declare the registry in the world file)", f.Registry)}
			}
			return Finding{Cause: fmt.Sprintf("%s did not issue an Azure AD challenge (status %d)", f.LoginServer, re.Status),
				Fix: "check that " + f.LoginServer + " is an Azure Container Registry login server and that no proxy answers in its place"}
		case StepExchange:
			return Finding{Cause: fmt.Sprintf("the registry refused the node identity's Azure AD token: %s", orText(re.Message, re.Body)),
				Fix: "check that tenantId in azure.json is the registry's tenant and that the node's clock is right"}
		case StepPullToken:
			return noPullRole(f)
		case StepManifest:
			switch {
			case re.Code == "MANIFEST_UNKNOWN":
				return Finding{Cause: fmt.Sprintf("the tag %q does not exist in repository %s of %s (MANIFEST_UNKNOWN: %s)", f.Image.Reference, f.Image.Repository, f.LoginServer, re.Message),
					Fix: fmt.Sprintf("list the tags with az acr repository show-tags --name %s --repository %s (or crane ls %s/%s) and fix the pod's image", f.Registry, f.Image.Repository, f.LoginServer, f.Image.Repository)}
			case re.Code == "NAME_UNKNOWN":
				return Finding{Cause: fmt.Sprintf("repository %s does not exist in %s (NAME_UNKNOWN)", f.Image.Repository, f.LoginServer),
					Fix: fmt.Sprintf("list the repositories with az acr repository list --name %s and fix the pod's image", f.Registry)}
			case re.Status == http.StatusUnauthorized:
				return noPullRole(f)
			}
		}
		return Finding{Cause: re.Error()}
	}
	var te *tokens.Error
	if step == StepAADToken && errors.As(err, &te) {
		return explainAAD(te, f)
	}
	switch step {
	case StepConfig:
		return Finding{Cause: err.Error(), Fix: "fix azure.json (AKS writes it to " + DefaultAzureConfigPath + ") or name another with --azure-config"}
	case StepChallenge:
		return Finding{Cause: err.Error(), Fix: "check that " + f.LoginServer + " is an Azure Container Registry login server"}
	}
	return Finding{Cause: err.Error()}
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firewall(re *RegistryError, f Facts) Finding {
	ip, seen := "<node outbound IP>", "this node"
	if m := deniedIP.FindStringSubmatch(re.Message); m != nil {
		ip, seen = m[1], "this node's address "+m[1]
	}
	return Finding{Cause: fmt.Sprintf("the network rules of registry %s refuse %s (%d %s): its firewall allows other addresses only, or public network access is disabled", f.Registry, seen, re.Status, orText(re.Code, "Forbidden")),
		Fix: fmt.Sprintf("allow the node's address: az acr network-rule add --name %s --ip-address %s (under podid up: podid cloud acr network-rule add --registry %[1]s --ip-address %[2]s); "+
			"if public network access is disabled, pull through a private endpoint whose private DNS zone privatelink.azurecr.io is linked to the node's network", f.Registry, ip)}
}

func noPullRole(f Facts) Finding {
	return Finding{Cause: fmt.Sprintf("the kubelet identity (object ID %s) has no role that allows pull on registry %s; the exchange succeeds for any identity, roles decide only when a repository token is asked for",
		orText(f.ObjectID, "unknown"), f.Registry),
		Fix: fmt.Sprintf("podid cloud acr attach --registry %s --principal %s (on Azure: az aks update --attach-acr %s, or az role assignment create --assignee %s --role AcrPull --scope <registry ID>); "+
			"a registry in rbac-abac mode ignores AcrPull and needs Container Registry Repository Reader", f.Registry, f.principal(), f.Registry, f.principal())}
}

func explainAAD(te *tokens.Error, f Facts) Finding {
	if f.Managed {
		if te.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(te.Description), "identity not found") {
			return Finding{Cause: fmt.Sprintf("IMDS does not know the kubelet identity %s on this node: it is not assigned to the node's VM or scale set (%s)", f.ClientID, te.Description),
				Fix: "assign it: az vmss identity assign -g <node resource group> -n <scale set> --identities <kubelet identity resource ID>, or set userAssignedIdentityID in azure.json to an identity the node has"}
		}
		return Finding{Cause: "IMDS refused the kubelet identity's token: " + te.Error(),
			Fix: "check userAssignedIdentityID in azure.json (the kubelet identity's client ID)"}
	}
	code := aadstsCode.FindString(te.Description)
	reset := fmt.Sprintf("az aks update-credentials -g <resource group> -n <cluster> --reset-service-principal --service-principal %s --client-secret <new secret>, which rewrites aadClientSecret in every node's azure.json", f.ClientID)
	switch code {
	case "AADSTS7000222":
		return Finding{Cause: fmt.Sprintf("the client secret of the kubelet's service principal %s has expired (AADSTS7000222)", f.ClientID),
			Fix: "create a new secret (az ad app credential reset --id " + f.ClientID + " --append) and give it to the cluster: " + reset}
	case "AADSTS7000215":
		return Finding{Cause: fmt.Sprintf("aadClientSecret in azure.json is not a secret of service principal %s (AADSTS7000215)", f.ClientID), Fix: reset}
	case "AADSTS700016":
		return Finding{Cause: fmt.Sprintf("no application with app ID %s exists in the tenant (AADSTS700016)", f.ClientID), Fix: "fix aadClientId and tenantId in azure.json"}
	case "AADSTS90002":
		return Finding{Cause: "the tenant in azure.json does not exist (AADSTS90002)", Fix: "fix tenantId in azure.json"}
	}
	return Finding{Cause: "Azure AD refused the service principal's token: " + te.Error(), Fix: "check aadClientId, aadClientSecret and tenantId in azure.json"}
}

// explainNetwork explains failures to reach a host at all.
func explainNetwork(err error, step Step, f Facts) (Finding, bool) {
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var opErr *net.OpError
	imds := step == StepAADToken && f.Managed
	switch {
	case errors.As(err, &dnsErr) && !imds:
		return Finding{Cause: fmt.Sprintf("%s does not resolve from this node (%s)", dnsErr.Name, dnsErr.Err),
			Fix: fmt.Sprintf("check the registry name (az acr show --name %s --query loginServer); with a private endpoint, link the private DNS zone privatelink.azurecr.io to the node's virtual network, or make a custom DNS server forward azurecr.io to 168.63.129.16", f.Registry)}, true
	case errors.As(err, &unknownCA), errors.As(err, &hostErr):
		return Finding{Cause: "the server's TLS certificate is not trusted: " + err.Error(),
			Fix: "add the issuing CA to the node's trust store or pass --ca-bundle; a TLS-inspecting proxy must re-sign with a CA the node trusts"}, true
	case imds && (errors.As(err, &opErr) || errors.As(err, &dnsErr) || isTimeout(err)):
		return Finding{Cause: fmt.Sprintf("the instance metadata service at %s is unreachable: %v", f.IMDSEndpoint, err),
			Fix: "run on an Azure VM or scale set node (IMDS answers at 169.254.169.254, never through a proxy), or point --imds-endpoint at the embedded cloud's IMDS listener"}, true
	case errors.As(err, &opErr) || isTimeout(err):
		return Finding{Cause: fmt.Sprintf("this node cannot reach %s: %v", f.LoginServer, err),
			Fix: fmt.Sprintf("allow outbound TCP 443 from the nodes to %s and %s.<region>.data.azurecr.io; for a private endpoint check the peering and routes to its IP", f.LoginServer, f.Registry)}, true
	}
	return Finding{}, false
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
