package cloudassign

import (
	"fmt"
	"strings"
)

// Target is the VM or VMSS an identity must be assigned to.
type Target struct {
	// ID is the ARM resource ID of the VM or the scale set.
	ID            string
	Subscription  string
	ResourceGroup string
	Name          string
	ScaleSet      bool
}

// ParseProviderID finds the machine behind a node from its providerID, as
// the Azure cloud provider writes it:
//
//	azure:///subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.Compute/virtualMachineScaleSets/<ss>/virtualMachines/<n>
//	azure:///subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.Compute/virtualMachines/<vm>
//
// Identities are assigned to the whole scale set, so a VMSS instance maps
// to its scale set.
func ParseProviderID(providerID string) (Target, error) {
	rest, ok := strings.CutPrefix(providerID, "azure://")
	if !ok {
		return Target{}, fmt.Errorf("providerID %q does not start with azure://; node mode needs nodes on Azure VMs or VMSS (or use token mode federated)", providerID)
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	// subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.Compute/<type>/<name>[/virtualMachines/<n>]
	if len(parts) < 8 || !strings.EqualFold(parts[0], "subscriptions") || !strings.EqualFold(parts[2], "resourceGroups") ||
		!strings.EqualFold(parts[4], "providers") || !strings.EqualFold(parts[5], "Microsoft.Compute") {
		return Target{}, fmt.Errorf("providerID %q is not a VM or VMSS resource ID", providerID)
	}
	t := Target{Subscription: parts[1], ResourceGroup: parts[3], Name: parts[7]}
	switch {
	case strings.EqualFold(parts[6], "virtualMachineScaleSets") && (len(parts) == 8 || len(parts) == 10):
		t.ScaleSet = true
		t.ID = "/" + strings.Join(parts[:8], "/")
	case strings.EqualFold(parts[6], "virtualMachines") && len(parts) == 8:
		t.ID = "/" + strings.Join(parts[:8], "/")
	default:
		return Target{}, fmt.Errorf("providerID %q names neither a VM nor a VMSS instance", providerID)
	}
	return t, nil
}
