package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/wi"
)

// Render prints p as the az and kubectl commands that carry it out, in the
// order they must run, so a dry run is also a runbook.
func Render(out io.Writer, p Plan) error {
	var b strings.Builder
	if len(p.Credentials)+len(p.Accounts)+len(p.Workloads) == 0 {
		b.WriteString("# nothing to migrate\n")
	}
	if len(p.Credentials) > 0 {
		b.WriteString("# 1. Federated credentials: Azure AD trusts the cluster's service-account tokens\n")
		for _, c := range p.Credentials {
			b.WriteString(credentialCommand(c) + "\n")
		}
	}
	if len(p.Accounts) > 0 {
		b.WriteString("# 2. Service accounts name their default identity\n")
		for _, a := range p.Accounts {
			if a.Create {
				fmt.Fprintf(&b, "kubectl create serviceaccount -n %s %s\n", a.Namespace, a.Name)
			}
			fmt.Fprintf(&b, "kubectl annotate serviceaccount -n %s %s %s=%s", a.Namespace, a.Name, wi.ClientIDAnnotation, a.ClientID)
			if a.TenantID != "" {
				fmt.Fprintf(&b, " %s=%s", wi.TenantIDAnnotation, a.TenantID)
			}
			b.WriteString(" --overwrite\n")
		}
	}
	if len(p.Workloads) > 0 {
		b.WriteString("# 3. Workloads get the projected token (their pods roll; the application is unchanged)\n")
		for _, w := range p.Workloads {
			if w.Recreate {
				fmt.Fprintf(&b, "# %s %s/%s: add the label %s=true (and serviceAccountName %s) to its manifest, then delete and create it\n", strings.ToLower(w.Kind), w.Namespace, w.Name, wi.UseLabel, orDefault(w.ServiceAccount))
				continue
			}
			patch, err := json.Marshal(TemplatePatch(w))
			if err != nil {
				return fmt.Errorf("encode patch of %s %s/%s: %w", w.Kind, w.Namespace, w.Name, err)
			}
			fmt.Fprintf(&b, "kubectl patch %s -n %s %s --type merge -p '%s'\n", strings.ToLower(w.Kind), w.Namespace, w.Name, patch)
		}
	}
	if len(p.Notes) > 0 {
		b.WriteString("# Notes\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "#  %s: %s\n", n.Object, n.Text)
		}
	}
	if len(p.Bindings) > 0 {
		b.WriteString("# Later, once the new pods get their tokens, pod identity can go:\n")
		for _, k := range p.Bindings {
			ns, name, _ := strings.Cut(k, "/")
			fmt.Fprintf(&b, "#  kubectl delete azureidentitybinding -n %s %s\n", ns, name)
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// credentialCommand is the az command creating c.
func credentialCommand(c Credential) string {
	if c.Type == podidv1.UserAssignedMSI {
		rg, name := armGroupAndName(c.ResourceID)
		return fmt.Sprintf("az identity federated-credential create --name %s --identity-name %s --resource-group %s --issuer %s --subject %s --audiences %s",
			c.Name, name, rg, c.Issuer, c.Subject, wi.Audience)
	}
	params, _ := json.Marshal(map[string]any{"name": c.Name, "issuer": c.Issuer, "subject": c.Subject, "audiences": []string{wi.Audience}})
	return fmt.Sprintf("az ad app federated-credential create --id %s --parameters '%s'", c.ClientID, params)
}

// TemplatePatch is the merge patch labelling w's pod template (and setting
// its service account when it changes).
func TemplatePatch(w WorkloadChange) map[string]any {
	tmpl := map[string]any{"metadata": map[string]any{"labels": map[string]string{wi.UseLabel: "true"}}}
	if w.ServiceAccount != "" {
		tmpl["spec"] = map[string]any{"serviceAccountName": w.ServiceAccount}
	}
	if w.Kind == "CronJob" {
		return map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": tmpl}}}}
	}
	return map[string]any{"spec": map[string]any{"template": tmpl}}
}

// armGroupAndName picks the resource group and last segment of an ARM ID.
func armGroupAndName(id string) (string, string) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	rg := ""
	for k := 0; k+1 < len(segs); k++ {
		if strings.EqualFold(segs[k], "resourceGroups") {
			rg = segs[k+1]
		}
	}
	return rg, segs[len(segs)-1]
}

func orDefault(sa string) string {
	if sa == "" {
		return "unchanged"
	}
	return sa
}
