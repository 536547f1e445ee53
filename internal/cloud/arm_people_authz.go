package cloud

import (
	"net/http"

	"github.com/podid/podid/internal/cloud/authz"
)

// assignmentCond is the ABAC condition of a role assignment PUT.
type assignmentCond struct {
	condition, version string
}

// conditionVersion2 is the only condition language version Azure accepts.
const conditionVersion2 = "2.0"

// assignmentCondition validates a PUT's condition and conditionVersion
// and answers ARM's refusal for a bad one. Azure defaults the version to
// 2.0, refuses any other (and a version without a condition) with "The
// given role assignment condition is invalid.", and refuses a condition
// it cannot parse with the same text. Conditions outside the language
// subset authz evaluates are refused too rather than stored: an assignment
// whose condition could never be decided would grant nothing without
// saying why.
func assignmentCondition(cond, version string) (assignmentCond, int, string, string) {
	if cond == "" && version == "" {
		return assignmentCond{}, 0, "", ""
	}
	if version == "" {
		version = conditionVersion2
	}
	if cond == "" || version != conditionVersion2 {
		return assignmentCond{}, http.StatusBadRequest, "InvalidCondition", "The given role assignment condition is invalid."
	}
	if _, err := authz.EvaluateCondition(cond, authz.Request{}); err != nil {
		return assignmentCond{}, http.StatusBadRequest, "InvalidCondition", "The given role assignment condition is invalid."
	}
	return assignmentCond{condition: cond, version: version}, 0, "", ""
}
