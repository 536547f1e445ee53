package migrate

import (
	"bytes"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/wi"
)

const issuer = "https://issuer.example/cluster"

func identity(ns, name, clientID string, typ podidv1.IdentityType) podidv1.AzureIdentity {
	id := podidv1.AzureIdentity{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	id.Spec.Type, id.Spec.ClientID = typ, clientID
	if typ == podidv1.UserAssignedMSI {
		id.Spec.ResourceID = "/subscriptions/s/resourceGroups/MC_rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name
	}
	return id
}

func bindingOf(ns, name, identity, selector string, weight int) podidv1.AzureIdentityBinding {
	b := podidv1.AzureIdentityBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	b.Spec.AzureIdentity, b.Spec.Selector, b.Spec.Weight = identity, selector, weight
	return b
}

func deployment(ns, name, sa, selector string) Workload {
	return Workload{Kind: "Deployment", Namespace: ns, Name: name, ServiceAccount: sa, Labels: map[string]string{"app": name, podidv1.SelectorLabel: selector}}
}

func TestDecide(t *testing.T) {
	cases := map[string]struct {
		in          Input
		credentials []string // identity|subject
		accounts    []string // ns/name=client[+create]
		workloads   []string // kind ns/name[->sa]
		notes       []string // substrings, one per note
	}{
		"seed 004: one deployment on the default account gets one credential, one annotation, one label": {
			in: Input{Issuer: issuer,
				Identities: []podidv1.AzureIdentity{identity("default", "aks-aad-user-identity", "c1", podidv1.UserAssignedMSI)},
				Bindings:   []podidv1.AzureIdentityBinding{bindingOf("default", "aks-aad-user-identity-binding", "aks-aad-user-identity", "aks-aad-user-identity", 0)},
				Workloads:  []Workload{deployment("default", "demo", "", "aks-aad-user-identity")}},
			credentials: []string{"default/aks-aad-user-identity|system:serviceaccount:default:default"},
			accounts:    []string{"default/default=c1"},
			workloads:   []string{"Deployment default/demo"},
		},
		"two workloads on one account bound to different identities move to dedicated accounts": {
			in: Input{Issuer: issuer,
				Identities:      []podidv1.AzureIdentity{identity("apps", "reader", "c1", podidv1.UserAssignedMSI), identity("apps", "writer", "c2", podidv1.UserAssignedMSI)},
				Bindings:        []podidv1.AzureIdentityBinding{bindingOf("apps", "b1", "reader", "r", 0), bindingOf("apps", "b2", "writer", "w", 0)},
				Workloads:       []Workload{deployment("apps", "a", "", "r"), deployment("apps", "b", "", "w")},
				ServiceAccounts: []ServiceAccount{{Namespace: "apps", Name: "default"}}},
			credentials: []string{"apps/reader|system:serviceaccount:apps:reader-wi", "apps/writer|system:serviceaccount:apps:writer-wi"},
			accounts:    []string{"apps/reader-wi=c1+create", "apps/writer-wi=c2+create"},
			workloads:   []string{"Deployment apps/a->reader-wi", "Deployment apps/b->writer-wi"},
			notes:       []string{"moves to the dedicated account reader-wi", "moves to the dedicated account writer-wi"},
		},
		"an account already naming another client ID is left alone": {
			in: Input{Issuer: issuer,
				Identities:      []podidv1.AzureIdentity{identity("apps", "reader", "c1", podidv1.UserAssignedMSI)},
				Bindings:        []podidv1.AzureIdentityBinding{bindingOf("apps", "b1", "reader", "r", 0)},
				Workloads:       []Workload{deployment("apps", "a", "app-sa", "r")},
				ServiceAccounts: []ServiceAccount{{Namespace: "apps", Name: "app-sa", Annotations: map[string]string{wi.ClientIDAnnotation: "other"}}}},
			credentials: []string{"apps/reader|system:serviceaccount:apps:reader-wi"},
			accounts:    []string{"apps/reader-wi=c1+create"},
			workloads:   []string{"Deployment apps/a->reader-wi"},
			notes:       []string{"already names client-id other"},
		},
		"an account already annotated with the same client ID needs no change": {
			in: Input{Issuer: issuer,
				Identities:      []podidv1.AzureIdentity{identity("apps", "reader", "c1", podidv1.UserAssignedMSI)},
				Bindings:        []podidv1.AzureIdentityBinding{bindingOf("apps", "b1", "reader", "r", 0)},
				Workloads:       []Workload{deployment("apps", "a", "app-sa", "r")},
				ServiceAccounts: []ServiceAccount{{Namespace: "apps", Name: "app-sa", Annotations: map[string]string{wi.ClientIDAnnotation: "c1"}}}},
			credentials: []string{"apps/reader|system:serviceaccount:apps:app-sa"},
			workloads:   []string{"Deployment apps/a"},
		},
		"two bindings: the heavier one is the default, both identities get a credential": {
			in: Input{Issuer: issuer,
				Identities: []podidv1.AzureIdentity{identity("apps", "light", "c1", podidv1.UserAssignedMSI), identity("apps", "heavy", "c2", podidv1.UserAssignedMSI)},
				Bindings:   []podidv1.AzureIdentityBinding{bindingOf("apps", "b1", "light", "x", 1), bindingOf("apps", "b2", "heavy", "x", 5)},
				Workloads:  []Workload{deployment("apps", "a", "sa", "x")}},
			credentials: []string{"apps/heavy|system:serviceaccount:apps:sa", "apps/light|system:serviceaccount:apps:sa"},
			accounts:    []string{"apps/sa=c2"},
			workloads:   []string{"Deployment apps/a"},
			notes:       []string{"bound to 2 identities; apps/heavy (highest binding weight) becomes the default"},
		},
		"a service principal identity gets its credential on the application": {
			in: Input{Issuer: issuer,
				Identities: []podidv1.AzureIdentity{identity("default", "sp", "app-1", podidv1.ServicePrincipal)},
				Bindings:   []podidv1.AzureIdentityBinding{bindingOf("default", "b", "sp", "sp", 0)},
				Workloads:  []Workload{deployment("default", "a", "", "sp")}},
			credentials: []string{"default/sp|system:serviceaccount:default:default"},
			accounts:    []string{"default/default=app-1"},
			workloads:   []string{"Deployment default/a"},
		},
		"a bare pod must be recreated": {
			in: Input{Issuer: issuer,
				Identities: []podidv1.AzureIdentity{identity("default", "i", "c1", podidv1.UserAssignedMSI)},
				Bindings:   []podidv1.AzureIdentityBinding{bindingOf("default", "b", "i", "i", 0)},
				Workloads:  []Workload{{Kind: "Pod", Namespace: "default", Name: "p", Labels: map[string]string{podidv1.SelectorLabel: "i"}}}},
			credentials: []string{"default/i|system:serviceaccount:default:default"},
			accounts:    []string{"default/default=c1"},
			workloads:   []string{"Pod default/p"},
			notes:       []string{"delete and create it again"},
		},
		"a binding of another namespace does not serve without cluster-wide bindings": {
			in: Input{Issuer: issuer,
				Identities: []podidv1.AzureIdentity{identity("infra", "i", "c1", podidv1.UserAssignedMSI)},
				Bindings:   []podidv1.AzureIdentityBinding{bindingOf("infra", "b", "i", "i", 0)},
				Workloads:  []Workload{deployment("apps", "a", "", "i")}},
			notes: []string{"matches no binding that serves namespace apps"},
		},
		"a binding naming a missing identity is reported, not migrated": {
			in: Input{Issuer: issuer,
				Bindings:  []podidv1.AzureIdentityBinding{bindingOf("default", "b", "gone", "x", 0)},
				Workloads: []Workload{deployment("default", "a", "", "x")}},
			notes: []string{`names AzureIdentity "gone", which does not exist`, "matches no binding"},
		},
		"an identity without resourceID cannot get a credential": {
			in: Input{Issuer: issuer,
				Identities: []podidv1.AzureIdentity{func() podidv1.AzureIdentity {
					i := identity("default", "i", "c1", podidv1.UserAssignedMSI)
					i.Spec.ResourceID = ""
					return i
				}()},
				Bindings:  []podidv1.AzureIdentityBinding{bindingOf("default", "b", "i", "i", 0)},
				Workloads: []Workload{deployment("default", "a", "", "i")}},
			accounts:  []string{"default/default=c1"},
			workloads: []string{"Deployment default/a"},
			notes:     []string{"has no resourceID"},
		},
		"no issuer: nothing is planned and the user is told how to find it": {
			in:    Input{Workloads: []Workload{deployment("default", "a", "", "i")}},
			notes: []string{"service-account issuer is unknown"},
		},
		"workloads without the label are not touched": {
			in: Input{Issuer: issuer, Workloads: []Workload{{Kind: "Deployment", Namespace: "default", Name: "plain"}}},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := Decide(c.in)
			var creds, accts, works []string
			for _, x := range p.Credentials {
				creds = append(creds, x.Identity+"|"+x.Subject)
				if x.Issuer != issuer {
					t.Errorf("credential %s trusts issuer %q, want %q", x.Name, x.Issuer, issuer)
				}
			}
			for _, a := range p.Accounts {
				s := a.Namespace + "/" + a.Name + "=" + a.ClientID
				if a.Create {
					s += "+create"
				}
				accts = append(accts, s)
			}
			for _, w := range p.Workloads {
				s := w.Kind + " " + w.Namespace + "/" + w.Name
				if w.ServiceAccount != "" {
					s += "->" + w.ServiceAccount
				}
				works = append(works, s)
			}
			same(t, "credentials", creds, c.credentials)
			same(t, "accounts", accts, c.accounts)
			same(t, "workloads", works, c.workloads)
			if len(p.Notes) != len(c.notes) {
				t.Errorf("notes: got %+v, want %d", p.Notes, len(c.notes))
			}
			for _, want := range c.notes {
				found := false
				for _, n := range p.Notes {
					found = found || strings.Contains(n.Text, want)
				}
				if !found {
					t.Errorf("no note contains %q; notes %+v", want, p.Notes)
				}
			}
		})
	}
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestRenderIsARunbook(t *testing.T) {
	p := Decide(Input{Issuer: issuer,
		Identities: []podidv1.AzureIdentity{identity("default", "aks-aad-user-identity", "c1", podidv1.UserAssignedMSI), identity("default", "sp", "app-1", podidv1.ServicePrincipal)},
		Bindings:   []podidv1.AzureIdentityBinding{bindingOf("default", "bind", "aks-aad-user-identity", "x", 0), bindingOf("default", "bind-sp", "sp", "y", 0)},
		Workloads: []Workload{deployment("default", "demo", "", "x"),
			{Kind: "CronJob", Namespace: "default", Name: "nightly", ServiceAccount: "batch", Labels: map[string]string{podidv1.SelectorLabel: "y"}}}})
	var out bytes.Buffer
	if err := Render(&out, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"az identity federated-credential create --name podid-default-default --identity-name aks-aad-user-identity --resource-group MC_rg --issuer " + issuer + " --subject system:serviceaccount:default:default --audiences api://AzureADTokenExchange",
		`az ad app federated-credential create --id app-1 --parameters '{"audiences":["api://AzureADTokenExchange"],"issuer":"` + issuer + `","name":"podid-default-batch","subject":"system:serviceaccount:default:batch"}'`,
		"kubectl annotate serviceaccount -n default default azure.workload.identity/client-id=c1 --overwrite",
		`kubectl patch deployment -n default demo --type merge -p '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'`,
		`kubectl patch cronjob -n default nightly --type merge -p '{"spec":{"jobTemplate":{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}}}'`,
		"#  kubectl delete azureidentitybinding -n default bind\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("runbook lacks\n  %s\n%s", want, out.String())
		}
	}
}

func TestCredentialNameFollowsAzureRules(t *testing.T) {
	for _, c := range []struct{ ns, sa, want string }{
		{"default", "default", "podid-default-default"},
		{"a.b", "sa:x", "podid-a-b-sa-x"},
	} {
		if got := CredentialName(c.ns, c.sa); got != c.want {
			t.Errorf("CredentialName(%q, %q) = %q, want %q", c.ns, c.sa, got, c.want)
		}
	}
	if got := CredentialName(strings.Repeat("n", 63), strings.Repeat("s", 253)); len(got) != 120 {
		t.Errorf("long names give a %d-character credential name, want 120", len(got))
	}
}
