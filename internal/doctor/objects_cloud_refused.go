package doctor

import (
	"fmt"
	"regexp"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/cloudassign"
)

var (
	grantRole  = regexp.MustCompile(`--role "([^"]+)"`)
	grantScope = regexp.MustCompile(`--scope (\S+)`)
)

// cloudRefused explains an assignment the cloud refused. The fix is the
// command mic's own condition message names, so the doctor and mic never
// disagree on it; a refusal without a grant (the identity does not exist)
// is fixed in the AzureIdentity.
func cloudRefused(out Finding, s *podidv1.AzureAssignedIdentity, idKey, msg string) Finding {
	code := assignstatus.CodeOf(s.Status)
	if code == "" {
		code = string(assignstatus.CloudRefused)
	}
	if _, fix, ok := strings.Cut(msg, cloudassign.GrantMarker); ok {
		fix = strings.TrimSpace(fix)
		role, scope := "a role", "its scope"
		if m := grantRole.FindStringSubmatch(fix); m != nil {
			role = fmt.Sprintf("%q", m[1])
		}
		if m := grantScope.FindStringSubmatch(fix); m != nil {
			scope = m[1]
		}
		out.Message = fmt.Sprintf("Azure refused to put identity %s on the node's VM or VMSS (%s): mic's identity lacks role %s on %s.", idKey, code, role, scope)
		out.Fix = fix
		return out
	}
	out.Message = fmt.Sprintf("Azure refused to put identity %s on the node's VM or VMSS (%s).", idKey, code)
	ns, name, _ := strings.Cut(idKey, "/")
	out.Fix = editCmd("azureidentity", ns, name)
	return out
}

// objectParts splits "Kind ns/name" as Object builds it.
func objectParts(obj string) (kind, ns, name string) {
	kind, rest, _ := strings.Cut(obj, " ")
	ns, name, ok := strings.Cut(rest, "/")
	if !ok {
		return strings.ToLower(kind), "", rest
	}
	return strings.ToLower(kind), ns, name
}
