package migrate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/wi"
)

// Workload is a pod template owner (or a pod no controller owns), as
// migration sees it.
type Workload struct {
	// Kind is Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod.
	Kind, Namespace, Name string
	// ServiceAccount is the template's serviceAccountName ("" means default).
	ServiceAccount string
	// Labels are the pod template's labels.
	Labels map[string]string
}

// ServiceAccount is an existing service account's name and annotations.
type ServiceAccount struct {
	Namespace, Name string
	Annotations     map[string]string
}

// Input is everything Plan decides from.
type Input struct {
	Identities      []podidv1.AzureIdentity
	Bindings        []podidv1.AzureIdentityBinding
	Workloads       []Workload
	ServiceAccounts []ServiceAccount
	// Issuer is the cluster's service-account token issuer.
	Issuer string
	// ClusterWide is the controller's --cluster-wide-bindings.
	ClusterWide bool
}

// Credential is a federated identity credential to create.
type Credential struct {
	// Identity is the AzureIdentity (namespace/name) it replaces.
	Identity string
	// Type says where the credential goes: a managed identity (ResourceID)
	// or an application (ClientID) for service-principal identities.
	Type       podidv1.IdentityType
	ResourceID string
	ClientID   string
	Name       string
	Issuer     string
	Subject    string
}

// AccountChange annotates (or creates) a service account.
type AccountChange struct {
	Namespace, Name string
	// Create is set for a dedicated account that does not exist yet.
	Create   bool
	ClientID string
	TenantID string
}

// WorkloadChange labels a workload's pod template and, when its account
// changes, sets serviceAccountName.
type WorkloadChange struct {
	Kind, Namespace, Name string
	// ServiceAccount is the new serviceAccountName, "" when unchanged.
	ServiceAccount string
	// Identities are the AzureIdentities (namespace/name) it is bound to.
	Identities []string
	// Recreate is set for a bare pod or a Job, whose pod template is
	// immutable: it must be deleted and created again to get the token.
	Recreate bool
}

// Note is something the user must know or decide.
type Note struct {
	Object string
	Text   string
}

// Plan is what replaces pod identity for the input's workloads.
type Plan struct {
	Credentials []Credential
	Accounts    []AccountChange
	Workloads   []WorkloadChange
	// Bindings are the AzureIdentityBindings (namespace/name) the plan
	// makes redundant; delete them once the new pods run.
	Bindings []string
	Notes    []Note
}

// binding is one binding that serves a workload, with its identity.
type binding struct {
	b  *podidv1.AzureIdentityBinding
	id *podidv1.AzureIdentity
}

// Decide computes the migration plan. It never fails: what cannot be
// migrated becomes a Note saying why and what to do.
func Decide(in Input) Plan {
	var p Plan
	ids := map[string]*podidv1.AzureIdentity{}
	for k := range in.Identities {
		id := &in.Identities[k]
		ids[id.Namespace+"/"+id.Name] = id
	}
	accounts := map[string]ServiceAccount{}
	for _, sa := range in.ServiceAccounts {
		accounts[sa.Namespace+"/"+sa.Name] = sa
	}
	if in.Issuer == "" {
		p.Notes = append(p.Notes, Note{Object: "cluster", Text: "the cluster's service-account issuer is unknown; enable --service-account-issuer discovery (kubectl get --raw /.well-known/openid-configuration) and run migrate again"})
		return p
	}

	// Which identities each workload is bound to, and the default one.
	type bound struct {
		w        Workload
		bindings []binding
	}
	var work []bound
	usedBindings := map[string]bool{}
	for _, w := range sortedWorkloads(in.Workloads) {
		if _, ok := w.Labels[podidv1.SelectorLabel]; !ok {
			continue
		}
		var bs []binding
		for k := range in.Bindings {
			b := &in.Bindings[k]
			id := ids[b.Namespace+"/"+b.Spec.AzureIdentity]
			if !podidv1.BindingSelects(b, w.Labels) || !podidv1.BindingServes(b, id, w.Namespace, in.ClusterWide) {
				continue
			}
			if id == nil {
				p.Notes = append(p.Notes, Note{Object: ref(w), Text: fmt.Sprintf("binding %s/%s names AzureIdentity %q, which does not exist; it gives this workload no identity today and is not migrated", b.Namespace, b.Name, b.Spec.AzureIdentity)})
				continue
			}
			bs = append(bs, binding{b: b, id: id})
		}
		if len(bs) == 0 {
			p.Notes = append(p.Notes, Note{Object: ref(w), Text: fmt.Sprintf("its %s label %q matches no binding that serves namespace %s; nothing to migrate", podidv1.SelectorLabel, w.Labels[podidv1.SelectorLabel], w.Namespace)})
			continue
		}
		sort.SliceStable(bs, func(i, j int) bool {
			if bs[i].b.Spec.Weight != bs[j].b.Spec.Weight {
				return bs[i].b.Spec.Weight > bs[j].b.Spec.Weight
			}
			return bs[i].id.Namespace+"/"+bs[i].id.Name < bs[j].id.Namespace+"/"+bs[j].id.Name
		})
		for _, b := range bs {
			usedBindings[b.b.Namespace+"/"+b.b.Name] = true
		}
		work = append(work, bound{w: w, bindings: bs})
	}

	// Service accounts: one default identity each. Workloads sharing an
	// account but wanting different defaults get a dedicated account.
	wantDefault := map[string]string{} // ns/sa -> identity key
	for _, b := range work {
		key := b.w.Namespace + "/" + accountOf(b.w)
		def := keyOf(b.bindings[0].id)
		if prev, ok := wantDefault[key]; !ok || prev == def {
			wantDefault[key] = def
		} else {
			wantDefault[key] = "" // conflict
		}
	}
	accountDone := map[string]bool{}
	credDone := map[string]bool{}
	for _, b := range work {
		w, def := b.w, b.bindings[0].id
		sa := accountOf(w)
		change := WorkloadChange{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Recreate: w.Kind == "Pod" || w.Kind == "Job"}
		existing, exists := accounts[w.Namespace+"/"+sa]
		has := existing.Annotations[wi.ClientIDAnnotation]
		if wantDefault[w.Namespace+"/"+sa] == "" || (has != "" && !strings.EqualFold(has, def.Spec.ClientID)) {
			// This account cannot carry this workload's default identity.
			dedicated := dedicatedAccount(def)
			p.Notes = append(p.Notes, Note{Object: ref(w), Text: fmt.Sprintf("service account %s serves workloads bound to different identities (or already names client-id %s); this workload moves to the dedicated account %s: grant it any Kubernetes RBAC %s had", sa, orNone(has), dedicated, sa)})
			sa, change.ServiceAccount = dedicated, dedicated
			existing, exists = accounts[w.Namespace+"/"+sa]
		}
		if !accountDone[w.Namespace+"/"+sa] {
			accountDone[w.Namespace+"/"+sa] = true
			if existing.Annotations[wi.ClientIDAnnotation] == "" || !exists {
				// A workload's own account exists (admission refuses pods
				// naming a missing one); only a dedicated one may need creating.
				p.Accounts = append(p.Accounts, AccountChange{Namespace: w.Namespace, Name: sa, Create: !exists && change.ServiceAccount != "", ClientID: def.Spec.ClientID, TenantID: def.Spec.TenantID})
			}
		}
		if len(b.bindings) > 1 {
			p.Notes = append(p.Notes, Note{Object: ref(w), Text: fmt.Sprintf("bound to %d identities; %s (highest binding weight) becomes the default, and requests naming another identity's client_id keep working through its own federated credential", len(b.bindings), keyOf(def))})
		}
		seen := map[string]bool{}
		for _, bb := range b.bindings {
			if seen[keyOf(bb.id)] {
				continue
			}
			seen[keyOf(bb.id)] = true
			change.Identities = append(change.Identities, keyOf(bb.id))
			subject := "system:serviceaccount:" + w.Namespace + ":" + sa
			ck := keyOf(bb.id) + "|" + subject
			if credDone[ck] {
				continue
			}
			credDone[ck] = true
			c := Credential{Identity: keyOf(bb.id), Type: bb.id.Spec.Type, ResourceID: bb.id.Spec.ResourceID, ClientID: bb.id.Spec.ClientID,
				Name: CredentialName(w.Namespace, sa), Issuer: in.Issuer, Subject: subject}
			if c.Type == podidv1.UserAssignedMSI && c.ResourceID == "" {
				p.Notes = append(p.Notes, Note{Object: "AzureIdentity " + keyOf(bb.id), Text: "has no resourceID; set spec.resourceID to the identity's ARM ID so its federated credential can be created"})
				continue
			}
			p.Credentials = append(p.Credentials, c)
		}
		if change.Recreate {
			p.Notes = append(p.Notes, Note{Object: ref(w), Text: "its pod template cannot change: add the label " + wi.UseLabel + "=true to its manifest, then delete and create it again after the plan is applied, so it gets the projected token"})
		}
		p.Workloads = append(p.Workloads, change)
	}
	for k := range usedBindings {
		p.Bindings = append(p.Bindings, k)
	}
	sort.Strings(p.Bindings)
	return p
}

var nameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// CredentialName is the federated credential's name for a service account:
// Azure allows 3-120 letters, digits, '-' and '_', starting with a letter
// or digit.
func CredentialName(namespace, account string) string {
	n := nameUnsafe.ReplaceAllString("podid-"+namespace+"-"+account, "-")
	if len(n) > 120 {
		n = n[:120]
	}
	return n
}

// dedicatedAccount names the account created for one identity's workloads.
func dedicatedAccount(id *podidv1.AzureIdentity) string {
	n := strings.ToLower(nameUnsafe.ReplaceAllString(id.Name, "-"))
	if len(n) > 240 {
		n = n[:240]
	}
	return n + "-wi"
}

func accountOf(w Workload) string {
	if w.ServiceAccount == "" {
		return wi.DefaultServiceAccount
	}
	return w.ServiceAccount
}

func keyOf(id *podidv1.AzureIdentity) string { return id.Namespace + "/" + id.Name }

func ref(w Workload) string { return w.Kind + " " + w.Namespace + "/" + w.Name }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func sortedWorkloads(ws []Workload) []Workload {
	out := append([]Workload(nil), ws...)
	sort.Slice(out, func(i, j int) bool { return ref(out[i]) < ref(out[j]) })
	return out
}
