package cloudassign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
)

// Machines reads and updates the user-assigned identities of VMs and VMSS.
// Implementations make exactly one ARM call per method and do not retry:
// the worker owns retries, back-off and Retry-After.
type Machines interface {
	// Identities returns the identities on the machine.
	Identities(ctx context.Context, t Target) (MachineIdentity, error)
	// Update adds and removes identities in one PATCH.
	Update(ctx context.Context, t Target, c Change) error
}

// MachineIdentity is what a VM or VMSS holds.
type MachineIdentity struct {
	// UserAssigned are the user-assigned identities' resource IDs.
	UserAssigned []string
	// SystemAssigned is set when the machine has a system-assigned identity.
	SystemAssigned bool
}

// CallError is an ARM refusal with what Classify needs.
type CallError struct {
	Op         string
	Status     int
	Code       string
	Message    string
	RetryAfter string
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
}

type armMachines struct {
	cred azcore.TokenCredential
	opts *arm.ClientOptions
}

var _ Machines = (*armMachines)(nil)

// NewARMMachines returns Machines backed by azure-sdk-for-go's armcompute.
// opts aims it at Azure or at the embedded cloud; its retries are turned
// off.
func NewARMMachines(cred azcore.TokenCredential, opts arm.ClientOptions) Machines {
	opts.Retry = policy.RetryOptions{MaxRetries: -1}
	return &armMachines{cred: cred, opts: &opts}
}

func (m *armMachines) Identities(ctx context.Context, t Target) (MachineIdentity, error) {
	var ident *armcompute.VirtualMachineIdentity
	var ssIdent *armcompute.VirtualMachineScaleSetIdentity
	if t.ScaleSet {
		c, err := armcompute.NewVirtualMachineScaleSetsClient(t.Subscription, m.cred, m.opts)
		if err != nil {
			return MachineIdentity{}, fmt.Errorf("create VMSS client: %w", err)
		}
		resp, err := c.Get(ctx, t.ResourceGroup, t.Name, nil)
		if err != nil {
			return MachineIdentity{}, callError("get VMSS "+t.Name, err)
		}
		ssIdent = resp.Identity
	} else {
		c, err := armcompute.NewVirtualMachinesClient(t.Subscription, m.cred, m.opts)
		if err != nil {
			return MachineIdentity{}, fmt.Errorf("create VM client: %w", err)
		}
		resp, err := c.Get(ctx, t.ResourceGroup, t.Name, nil)
		if err != nil {
			return MachineIdentity{}, callError("get VM "+t.Name, err)
		}
		ident = resp.Identity
	}
	var out MachineIdentity
	var typ *armcompute.ResourceIdentityType
	switch {
	case ssIdent != nil:
		typ = ssIdent.Type
		for id := range ssIdent.UserAssignedIdentities {
			out.UserAssigned = append(out.UserAssigned, id)
		}
	case ident != nil:
		typ = ident.Type
		for id := range ident.UserAssignedIdentities {
			out.UserAssigned = append(out.UserAssigned, id)
		}
	}
	out.SystemAssigned = typ != nil && strings.Contains(strings.ToLower(string(*typ)), "systemassigned")
	return out, nil
}

// userAssignedPatch is the userAssignedIdentities map of a PATCH: an empty
// object adds, a JSON null (a nil value in the SDK) removes. With no
// user-assigned identity left the map is left out: the declared type
// removes them all, and ARM refuses the map beside type None.
func userAssignedPatch[V any](ch Change, add func() *V) map[string]*V {
	if ch.UserAssignedAfter == 0 {
		return nil
	}
	users := map[string]*V{}
	for _, id := range ch.Add {
		users[id] = add()
	}
	for _, id := range ch.Remove {
		users[id] = nil
	}
	return users
}

func (m *armMachines) Update(ctx context.Context, t Target, ch Change) error {
	// A JSON null removes an identity; the SDK models that as a nil value.
	if t.ScaleSet {
		c, err := armcompute.NewVirtualMachineScaleSetsClient(t.Subscription, m.cred, m.opts)
		if err != nil {
			return fmt.Errorf("create VMSS client: %w", err)
		}
		poller, err := c.BeginUpdate(ctx, t.ResourceGroup, t.Name, armcompute.VirtualMachineScaleSetUpdate{
			Identity: &armcompute.VirtualMachineScaleSetIdentity{
				Type:                   to.Ptr(armcompute.ResourceIdentityType(ch.IdentityType())),
				UserAssignedIdentities: userAssignedPatch(ch, newUserValue),
			},
		}, nil)
		if err != nil {
			return callError("update VMSS "+t.Name, err)
		}
		if _, err := poller.PollUntilDone(ctx, nil); err != nil {
			return callError("update VMSS "+t.Name, err)
		}
		return nil
	}
	c, err := armcompute.NewVirtualMachinesClient(t.Subscription, m.cred, m.opts)
	if err != nil {
		return fmt.Errorf("create VM client: %w", err)
	}
	poller, err := c.BeginUpdate(ctx, t.ResourceGroup, t.Name, armcompute.VirtualMachineUpdate{
		Identity: &armcompute.VirtualMachineIdentity{
			Type:                   to.Ptr(armcompute.ResourceIdentityType(ch.IdentityType())),
			UserAssignedIdentities: userAssignedPatch(ch, newUserValue),
		},
	}, nil)
	if err != nil {
		return callError("update VM "+t.Name, err)
	}
	if _, err := poller.PollUntilDone(ctx, nil); err != nil {
		return callError("update VM "+t.Name, err)
	}
	return nil
}

func newUserValue() *armcompute.UserAssignedIdentitiesValue {
	return &armcompute.UserAssignedIdentitiesValue{}
}

// callError extracts status, code, message and Retry-After from an SDK error.
func callError(op string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: %w", op, err)
	}
	ce := &CallError{Op: op, Status: re.StatusCode, Code: re.ErrorCode, Message: re.Error()}
	if resp := re.RawResponse; resp != nil {
		ce.RetryAfter = resp.Header.Get("Retry-After")
		ce.Message = armMessage(resp)
	}
	return ce
}

// armMessage reads error.message from an ARM error body.
func armMessage(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return ""
	}
	var body struct {
		Error struct {
			Code, Message string
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error.Message != "" {
		return body.Error.Message
	}
	return string(raw)
}
