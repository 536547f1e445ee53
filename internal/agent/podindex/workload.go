package podindex

import (
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/agent/server"
	"github.com/podid/podid/internal/tokens"
	"github.com/podid/podid/internal/wi"
)

// Where the kubelet keeps pods' projected volumes.
const (
	projectedVolumes  = "volumes/kubernetes.io~projected"
	defaultKubeletDir = "/var/lib/kubelet"
)

// DefaultKubeletDir is the kubelet's --root-dir on AKS nodes.
const DefaultKubeletDir = defaultKubeletDir

// workloadIdentityOf reads a workload-identity pod's wiring from its spec:
// the azure.workload.identity/use label, a projected service-account token
// for Azure AD's audience, and the client (and tenant) ID the webhook put
// in the environment of the containers that mount it. The identity's
// AssertionFile is where the kubelet of this node writes that token. A pod
// without all three is not a workload-identity pod (ok false).
//
// The identity is named after the pod's service account: the federated
// credential trusts the account, so pods of one account share tokens and
// pods of different accounts never do.
func workloadIdentityOf(p *corev1.Pod, kubeletDir string) (tokens.Identity, bool) {
	if p.Labels[wi.UseLabel] != "true" {
		return tokens.Identity{}, false
	}
	volume, path := "", ""
	for _, v := range p.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if t := s.ServiceAccountToken; t != nil && t.Audience == tokens.FederatedAudience {
				volume, path = v.Name, t.Path
			}
		}
	}
	if volume == "" {
		return tokens.Identity{}, false
	}
	clientID, tenantID := "", ""
	for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if env[wi.EnvFederatedTokenFile] != "" && env[wi.EnvClientID] != "" {
			clientID, tenantID = env[wi.EnvClientID], env[wi.EnvTenantID]
			break
		}
	}
	if clientID == "" {
		return tokens.Identity{}, false
	}
	if kubeletDir == "" {
		kubeletDir = defaultKubeletDir
	}
	sa := wi.ServiceAccountOf(&p.Spec)
	return tokens.Identity{
		Name:          tokens.WorkloadIdentityName(p.Namespace, sa),
		ClientID:      clientID,
		TenantID:      tenantID,
		AssertionFile: filepath.Join(kubeletDir, "pods", string(p.UID), projectedVolumes, volume, filepath.FromSlash(path)),
	}, true
}

// workloadAssignments is what a workload-identity pod may ask for: its
// default identity (the service account's client ID), and each identity
// pod identity still assigns it (a workload part-way through migration),
// all exchanged with the pod's own token. An assigned identity with the
// default's client ID enriches the default (its resource ID answers
// msi_res_id) instead of adding a second entry.
func workloadAssignments(def tokens.Identity, assigned []server.Assigned) []server.Assigned {
	out := []server.Assigned{{Name: def.Name, Identity: def, State: v1.AssignedIDAssigned, Default: true}}
	for _, a := range assigned {
		if a.State == v1.AssignedIDUnassigned {
			continue
		}
		id := def
		id.ClientID, id.ResourceID = a.Identity.ClientID, a.Identity.ResourceID
		if a.Identity.TenantID != "" {
			id.TenantID = a.Identity.TenantID
		}
		if strings.EqualFold(id.ClientID, def.ClientID) {
			out[0].Identity.ResourceID = a.Identity.ResourceID
			continue
		}
		out = append(out, server.Assigned{Name: a.Name, Identity: id, State: v1.AssignedIDAssigned})
	}
	return out
}
