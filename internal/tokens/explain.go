package tokens

import (
	"errors"
	"regexp"
)

// FixMarker introduces the fix in a refusal's explanation; podid doctor
// reads what follows it from the node agent's events.
const FixMarker = "Fix: "

// Explanation says why Azure AD refused a token and what fixes it.
type Explanation struct {
	// Code is the AADSTS code ("AADSTS7000222"), or the OAuth error code
	// when the description carries none.
	Code string
	// Cause is what the code means, in a sentence.
	Cause string
	// Fix is what to do.
	Fix string
}

var aadstsCode = regexp.MustCompile(`AADSTS\d+`)

// causes are the refusals pod identity users meet, by AADSTS code.
var causes = map[string]Explanation{
	"AADSTS7000222": {Cause: "the service principal's client secret has expired",
		Fix: "create a new secret (az ad app credential reset --id <client ID> --append) and put it in the Secret the AzureIdentity's spec.clientPassword names"},
	"AADSTS7000215": {Cause: "the client secret is not the service principal's",
		Fix: "put the service principal's current secret in the Secret the AzureIdentity's spec.clientPassword names"},
	"AADSTS700016": {Cause: "no application with this client ID exists in the tenant",
		Fix: "fix spec.clientID and spec.tenantID of the AzureIdentity (az ad sp show --id <client ID>)"},
	"AADSTS70021": {Cause: "no federated credential of the identity matches the agent's token (issuer, subject and audience are compared exactly)",
		Fix: "run podid doctor --identity <namespace>/<name>, which names the federated credential to create or correct"},
	"AADSTS700024": {Cause: "the client assertion is outside its validity period",
		Fix: "check the node's clock"},
	"AADSTS90002": {Cause: "the tenant does not exist",
		Fix: "fix spec.tenantID of the AzureIdentity, or the agent's --tenant-id"},
}

// Explain describes a permanent refusal from Azure AD; ok is false for
// other errors (transient ones, IMDS refusals).
func Explain(err error) (Explanation, bool) {
	var te *Error
	if !errors.As(err, &te) || !Permanent(err) {
		return Explanation{}, false
	}
	code := aadstsCode.FindString(te.Description)
	if e, known := causes[code]; known {
		e.Code = code
		return e, true
	}
	if code == "" {
		code = te.Code
	}
	return Explanation{Code: code, Cause: "Azure AD refused the request", Fix: "read the refusal above; podid doctor --identity <namespace>/<name> checks the identity's fields and credentials"}, true
}
