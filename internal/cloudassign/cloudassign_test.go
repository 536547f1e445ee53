package cloudassign

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

const (
	vmssID  = "/subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/MC_rg-aks-poc-container-westus2/providers/Microsoft.Compute/virtualMachineScaleSets/aks-system-12583646-vmss"
	idA     = "/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a"
	idB     = "/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b"
	kubelet = "/subscriptions/s/resourcegroups/mc/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agentpool"
)

func TestParseProviderID(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Target
		wantErr string
	}{
		"a VMSS instance maps to its scale set": {
			in:   "azure://" + vmssID + "/virtualMachines/1",
			want: Target{ID: vmssID, Subscription: "7e242177-ef0b-431f-8c76-e40907843aa7", ResourceGroup: "MC_rg-aks-poc-container-westus2", Name: "aks-system-12583646-vmss", ScaleSet: true},
		},
		"a standalone VM": {
			in:   "azure:///subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1",
			want: Target{ID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1", Subscription: "s", ResourceGroup: "g", Name: "vm1"},
		},
		"kwok's and other clouds' IDs are refused with the way out": {in: "kwok://node-0", wantErr: "federated"},
		"a truncated ID":           {in: "azure:///subscriptions/s/resourceGroups/g", wantErr: "not a VM or VMSS"},
		"another compute resource": {in: "azure:///subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d", wantErr: "neither"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseProviderID(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestMakePlan(t *testing.T) {
	cases := map[string]struct {
		in          PlanInput
		add, remove []string
		requests    int
	}{
		"a wanted identity missing from the machine is added": {
			in:  PlanInput{Current: []string{kubelet}, Wanted: []string{idA}},
			add: []string{idA}, requests: 1,
		},
		"an identity already there is left alone, whatever its case": {
			in: PlanInput{Current: []string{strings.ToUpper(idA)}, Wanted: []string{idA}},
		},
		"a released identity no pod wants is removed": {
			in:     PlanInput{Current: []string{idA, kubelet}, Releasing: []string{idA}},
			remove: []string{idA}, requests: 1,
		},
		"a released identity another pod still wants stays": {
			in: PlanInput{Current: []string{idA}, Wanted: []string{idA}, Releasing: []string{idA}},
		},
		"the kubelet identity is never removed": {
			in: PlanInput{Current: []string{kubelet}, Releasing: []string{kubelet}, Immutable: []string{kubelet}},
		},
		"identities podid did not add are never removed": {
			in: PlanInput{Current: []string{idA, idB}, Wanted: nil},
		},
		"a refused identity waits and does not block the others": {
			in:  PlanInput{Wanted: []string{idA, idB}, Refused: []string{idB}},
			add: []string{idA}, requests: 1,
		},
		"adds and removes go in one request": {
			in:  PlanInput{Current: []string{idB}, Wanted: []string{idA}, Releasing: []string{idB}},
			add: []string{idA}, remove: []string{idB}, requests: 1,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := MakePlan(tc.in)
			if !reflect.DeepEqual(p.Add, tc.add) || !reflect.DeepEqual(p.Remove, tc.remove) {
				t.Errorf("add %v remove %v; want add %v remove %v", p.Add, p.Remove, tc.add, tc.remove)
			}
			if len(p.Requests) != tc.requests {
				t.Errorf("%d requests, want %d", len(p.Requests), tc.requests)
			}
		})
	}
}

func TestMakePlanSplitsRequestsAt150(t *testing.T) {
	var wanted, current []string
	for i := 0; i < 320; i++ {
		wanted = append(wanted, fmt.Sprintf("/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/w%03d", i))
	}
	for i := 0; i < 20; i++ {
		current = append(current, fmt.Sprintf("/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/old%02d", i))
	}
	p := MakePlan(PlanInput{Current: current, Wanted: wanted, Releasing: current})
	if len(p.Requests) != 3 {
		t.Fatalf("%d requests, want 3 for 340 changes", len(p.Requests))
	}
	total := 0
	for _, r := range p.Requests {
		n := len(r.Add) + len(r.Remove)
		if n > MaxChangesPerRequest {
			t.Errorf("a request carries %d changes, over %d", n, MaxChangesPerRequest)
		}
		total += n
	}
	if total != 340 {
		t.Errorf("requests carry %d changes, want 340", total)
	}
}

func TestClassify(t *testing.T) {
	target, _ := ParseProviderID("azure://" + vmssID + "/virtualMachines/1")
	linked := "The client 'b9276f33-e80c-4f09-9cdf-24c28c0feea4' with object id 'b9276f33-e80c-4f09-9cdf-24c28c0feea4' has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope '" + vmssID + "'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '" + strings.ToLower(idA) + "," + strings.ToLower(idB) + "' or the linked scope(s) are invalid."
	authz := "The client 'b9276f33-e80c-4f09-9cdf-24c28c0feea4' with object id 'b9276f33-e80c-4f09-9cdf-24c28c0feea4' does not have authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/read' over scope '" + vmssID + "' or the scope is invalid. If access was recently granted, please refresh your credentials."
	cases := map[string]struct {
		status     int
		code, msg  string
		retryAfter string
		kind       Kind
		ids        []string
		wait       time.Duration
		fix        string
	}{
		"seed 004 step 3: no Managed Identity Operator names both identities and the role": {
			status: 403, code: "LinkedAuthorizationFailed", msg: linked,
			kind: KindIdentityRefused, ids: []string{strings.ToLower(idA), strings.ToLower(idB)},
			fix: `az role assignment create --role "Managed Identity Operator" --assignee b9276f33-e80c-4f09-9cdf-24c28c0feea4 --scope ` + strings.ToLower(idA),
		},
		"seed 004 step 7: no Virtual Machine Contributor names the read and the node resource group": {
			status: 403, code: "AuthorizationFailed", msg: authz, kind: KindForbidden,
			fix: `az role assignment create --role "Virtual Machine Contributor" --assignee b9276f33-e80c-4f09-9cdf-24c28c0feea4 --scope /subscriptions/7e242177-ef0b-431f-8c76-e40907843aa7/resourceGroups/MC_rg-aks-poc-container-westus2`,
		},
		"a deleted identity is refused by name": {
			status: 400, code: "FailedIdentityOperation",
			msg:  "Identity operation for resource '" + vmssID + "' failed with error 'Failed to perform resource identity operation. Status: 'NotFound'. Response: '{\"error\":{\"code\":\"NotFound\",\"message\":\"Resource '" + idB + "' does not exist.\"}}'.'.",
			kind: KindIdentityRefused, ids: []string{idB}, fix: "Fix spec.resourceID",
		},
		"a deleted scale set is gone, with its identities": {
			status: 404, code: "ResourceNotFound",
			msg:  "The Resource 'Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-vmss' under resource group 'MC_rg' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
			kind: KindMachineGone, fix: "VMSS " + vmssID + " no longer exists in Azure",
		},
		"429 waits as long as Retry-After says": {status: 429, code: "TooManyRequests", retryAfter: "17", kind: KindThrottled, wait: 17 * time.Second},
		"429 without Retry-After waits 10 s":    {status: 429, kind: KindThrottled, wait: 10 * time.Second},
		"503 is retried":                        {status: 503, code: "ServiceUnavailable", kind: KindServer},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := Classify(target, tc.status, tc.code, tc.msg, tc.retryAfter)
			if f.Kind != tc.kind {
				t.Errorf("kind = %v, want %v", f.Kind, tc.kind)
			}
			if !reflect.DeepEqual(f.Identities, tc.ids) {
				t.Errorf("identities = %v, want %v", f.Identities, tc.ids)
			}
			if f.RetryAfter != tc.wait {
				t.Errorf("retry after %s, want %s", f.RetryAfter, tc.wait)
			}
			if !strings.Contains(f.Message, tc.fix) {
				t.Errorf("message %q does not contain %q", f.Message, tc.fix)
			}
		})
	}
}

func TestOnlyAMachineChangeOfANodeTriggersABurst(t *testing.T) {
	node := func(providerID string, ready corev1.ConditionStatus) *corev1.Node {
		return &corev1.Node{Spec: corev1.NodeSpec{ProviderID: providerID},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}}}
	}
	pid := "azure://" + vmssID + "/virtualMachines/1"
	cases := map[string]struct {
		old, new *corev1.Node
		want     bool
	}{
		"a heartbeat or status change":           {node(pid, corev1.ConditionTrue), node(pid, corev1.ConditionFalse), false},
		"the cloud provider sets the providerID": {node("", corev1.ConditionTrue), node(pid, corev1.ConditionTrue), true},
		"the node moves to another machine":      {node(pid, corev1.ConditionTrue), node("azure://"+vmssID+"/virtualMachines/2", corev1.ConditionTrue), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := machineChanged(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("machineChanged = %v, want %v", got, tc.want)
			}
		})
	}
}
