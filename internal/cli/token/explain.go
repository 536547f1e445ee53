package token

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/assignstatus"
	"github.com/podid/podid/internal/kubeclient"
)

// explainTimeout bounds the look-up of the pod's assignments after the
// token wait has already used up --timeout.
const explainTimeout = 5 * time.Second

// explainAssignments reads the pod's AzureAssignedIdentities and says why
// none serves a token yet. A failed look-up explains nothing.
func explainAssignments(cfg *rest.Config, ns, pod string) string {
	ctx, cancel := context.WithTimeout(context.Background(), explainTimeout)
	defer cancel()
	c, err := client.New(cfg, client.Options{Scheme: kubeclient.Scheme()})
	if err != nil {
		return ""
	}
	var list podidv1.AzureAssignedIdentityList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return ""
	}
	return describeAssignments(list.Items, ns, pod)
}

// describeAssignments is the explanation for pod ns/pod given every
// assignment of its namespace: one line per assignment that is not
// Assigned, with why and the controller's message (which holds the fix).
// Why is ARM's error code when the cloud gave one (LinkedAuthorizationFailed,
// the reason of the Warning events too), else the condition's reason.
func describeAssignments(items []podidv1.AzureAssignedIdentity, ns, pod string) string {
	var lines []string
	found := false
	for _, a := range items {
		if a.Spec.PodNamespace != ns || a.Spec.Pod != pod {
			continue
		}
		found = true
		if a.Status.Status == podidv1.AssignedIDAssigned {
			continue
		}
		line := fmt.Sprintf("AzureAssignedIdentity %s/%s is %s", a.Namespace, a.Name, orUnset(a.Status.Status))
		if c := meta.FindStatusCondition(a.Status.Conditions, assignstatus.ConditionReady); c != nil && c.Message != "" {
			why := c.Reason
			if code := assignstatus.CodeOf(a.Status); code != "" {
				why = code
			}
			line += " (" + why + "): " + strings.TrimPrefix(c.Message, why+": ")
		}
		lines = append(lines, line)
	}
	if !found {
		return fmt.Sprintf("no AzureAssignedIdentity names pod %s/%s: does an AzureIdentityBinding select its %s label?", ns, pod, podidv1.SelectorLabel)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func orUnset(s string) string {
	if s == "" {
		return "without status"
	}
	return s
}
