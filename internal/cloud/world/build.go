package world

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/wi"
)

var (
	nameRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$`)
	vaultNameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$`)
	secretNameRE = regexp.MustCompile(`^[0-9A-Za-z-]{1,127}$`)
	permissions  = map[string]bool{"get": true, "list": true, "set": true, "delete": true, "all": true}
)

// derivedID is a stable UUID for a named object.
func derivedID(parts ...string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("podid-world:"+strings.ToLower(strings.Join(parts, "/")))).String()
}

// builder converts a world into a State, failing on the first problem.
type builder struct {
	st cloud.State
	// baseDir resolves relative paths (registry image layouts).
	baseDir string
}

func fail(p pos, key, field, format string, args ...any) error {
	return &Error{Line: p.at(key), Field: field, Msg: fmt.Sprintf(format, args...)}
}

func guidOr(p pos, key, field, value string, fallback func() string) (string, error) {
	if value == "" {
		return fallback(), nil
	}
	if _, err := uuid.Parse(value); err != nil {
		return "", fail(p, key, field, "%q is not a GUID", value)
	}
	return strings.ToLower(value), nil
}

func (w *World) validate() error {
	_, err := w.State()
	return err
}

// State converts the world into the cloud's initial state.
func (w *World) State() (cloud.State, error) {
	if len(w.Tenants) == 0 {
		return cloud.State{}, fail(w.pos, "tenants", "tenants", "at least one tenant is required")
	}
	b := &builder{baseDir: w.baseDir}
	for ti := range w.Tenants {
		if err := b.tenantResources(&w.Tenants[ti], fmt.Sprintf("tenants[%d]", ti)); err != nil {
			return cloud.State{}, err
		}
	}
	// References resolve once every named object exists.
	for ti := range w.Tenants {
		if err := b.tenantRefs(&w.Tenants[ti], fmt.Sprintf("tenants[%d]", ti)); err != nil {
			return cloud.State{}, err
		}
	}
	return b.st, nil
}

func (b *builder) tenantResources(t *Tenant, path string) error {
	if _, err := uuid.Parse(t.ID); err != nil {
		return fail(t.pos, "id", path+".id", "%q is not a GUID", t.ID)
	}
	tid := strings.ToLower(t.ID)
	b.st.Tenants = append(b.st.Tenants, cloud.Tenant{ID: tid, Name: t.Name})
	for si, s := range t.Subscriptions {
		sp := fmt.Sprintf("%s.subscriptions[%d]", path, si)
		if _, err := uuid.Parse(s.ID); err != nil {
			return fail(s.pos, "id", sp+".id", "%q is not a GUID", s.ID)
		}
		sid := strings.ToLower(s.ID)
		b.st.Subscriptions = append(b.st.Subscriptions, cloud.Subscription{ID: sid, TenantID: tid, Name: s.Name})
		for gi, g := range s.ResourceGroups {
			if err := b.group(tid, sid, g, fmt.Sprintf("%s.resourceGroups[%d]", sp, gi)); err != nil {
				return err
			}
		}
	}
	for ai, a := range t.Applications {
		if err := b.application(tid, a, fmt.Sprintf("%s.applications[%d]", path, ai)); err != nil {
			return err
		}
	}
	return b.people(tid, t, path)
}

func (b *builder) group(tid, sid string, g ResourceGroup, path string) error {
	if !nameRE.MatchString(g.Name) {
		return fail(g.pos, "name", path+".name", "%q is not a valid resource group name", g.Name)
	}
	loc := g.Location
	if loc == "" {
		loc = "eastus"
	}
	rgID := "/subscriptions/" + sid + "/resourceGroups/" + g.Name
	b.st.ResourceGroups = append(b.st.ResourceGroups, &cloud.ResourceGroup{ID: rgID, Name: g.Name, SubscriptionID: sid, Location: loc})
	for ii, i := range g.Identities {
		ip := fmt.Sprintf("%s.identities[%d]", path, ii)
		if !nameRE.MatchString(i.Name) {
			return fail(i.pos, "name", ip+".name", "%q is not a valid identity name", i.Name)
		}
		id := rgID + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + i.Name
		if b.findIdentity(i.Name) != nil {
			return fail(i.pos, "name", ip+".name", "identity %q is declared twice", i.Name)
		}
		clientID, err := guidOr(i.pos, "clientId", ip+".clientId", i.ClientID, func() string { return derivedID(id, "client") })
		if err != nil {
			return err
		}
		principalID, err := guidOr(i.pos, "principalId", ip+".principalId", i.PrincipalID, func() string { return derivedID(id, "principal") })
		if err != nil {
			return err
		}
		fics, err := federated(i.FederatedCredentials, ip)
		if err != nil {
			return err
		}
		b.st.Identities = append(b.st.Identities, &cloud.Identity{ID: id, Name: i.Name, SubscriptionID: sid, ResourceGroup: g.Name, Location: loc,
			TenantID: tid, ClientID: clientID, PrincipalID: principalID, Federated: fics})
	}
	for _, set := range []struct {
		list     []Machine
		scaleSet bool
		field    string
	}{{g.ScaleSets, true, "scaleSets"}, {g.VirtualMachines, false, "virtualMachines"}} {
		for mi, m := range set.list {
			if err := b.machine(tid, sid, g.Name, loc, m, set.scaleSet, fmt.Sprintf("%s.%s[%d]", path, set.field, mi)); err != nil {
				return err
			}
		}
	}
	for vi, v := range g.Vaults {
		vp := fmt.Sprintf("%s.vaults[%d]", path, vi)
		if !vaultNameRE.MatchString(v.Name) {
			return fail(v.pos, "name", vp+".name", "%q is not a valid vault name (3-24 letters, digits and hyphens, starting with a letter)", v.Name)
		}
		if v.Mode != "" && v.Mode != "rbac" && v.Mode != "accessPolicy" {
			return fail(v.pos, "mode", vp+".mode", "%q is not one of rbac, accessPolicy", v.Mode)
		}
		cv := &cloud.Vault{ID: rgID + "/providers/Microsoft.KeyVault/vaults/" + v.Name, Name: v.Name, SubscriptionID: sid, ResourceGroup: g.Name,
			Location: loc, TenantID: tid, RBAC: v.Mode != "accessPolicy", Secrets: map[string][]cloud.SecretVersion{}}
		for si, s := range v.Secrets {
			if !secretNameRE.MatchString(s.Name) {
				return fail(s.pos, "name", fmt.Sprintf("%s.secrets[%d].name", vp, si), "%q is not a valid secret name", s.Name)
			}
			ver := strings.ReplaceAll(derivedID(cv.ID, s.Name, "v1"), "-", "")
			cv.Secrets[strings.ToLower(s.Name)] = []cloud.SecretVersion{{Version: ver, Value: s.Value, ContentType: s.ContentType, Enabled: true}}
		}
		b.st.Vaults = append(b.st.Vaults, cv)
	}
	return b.registries(tid, sid, g, loc, path)
}

func (b *builder) machine(tid, sid, rg, loc string, m Machine, scaleSet bool, path string) error {
	if !nameRE.MatchString(m.Name) {
		return fail(m.pos, "name", path+".name", "%q is not a valid machine name", m.Name)
	}
	kind := "virtualMachines"
	if scaleSet {
		kind = "virtualMachineScaleSets"
		if m.Capacity < 1 || m.Capacity > 1000 {
			return fail(m.pos, "capacity", path+".capacity", "must be between 1 and 1000, got %d", m.Capacity)
		}
	} else if m.Capacity != 0 {
		return fail(m.pos, "capacity", path+".capacity", "applies to scale sets only")
	}
	id := "/subscriptions/" + sid + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/" + kind + "/" + m.Name
	cm := &cloud.Machine{ID: id, Name: m.Name, ScaleSet: scaleSet, SubscriptionID: sid, ResourceGroup: rg, Location: loc, TenantID: tid,
		Capacity: max(m.Capacity, 1), UniqueID: derivedID(id)}
	if m.SystemAssigned {
		cm.System = &cloud.SystemIdentity{PrincipalID: derivedID(id, "system-principal"), ClientID: derivedID(id, "system-client")}
	}
	b.st.Machines = append(b.st.Machines, cm)
	return nil
}

func federated(in []FederatedCredential, path string) ([]cloud.FederatedCredential, error) {
	var out []cloud.FederatedCredential
	for fi, f := range in {
		c := cloud.FederatedCredential{Name: f.Name, Issuer: f.Issuer, Subject: f.Subject, Audiences: f.Audiences}
		if len(c.Audiences) == 0 {
			c.Audiences = []string{wi.Audience}
		}
		if msg := cloud.ValidateFederatedCredential(out, c, -1); msg != "" {
			return nil, fail(f.pos, "name", fmt.Sprintf("%s.federatedCredentials[%d]", path, fi), "%s", msg)
		}
		out = append(out, c)
	}
	return out, nil
}

func (b *builder) application(tid string, a Application, path string) error {
	if a.Name == "" {
		return fail(a.pos, "name", path+".name", "is required")
	}
	appID, err := guidOr(a.pos, "appId", path+".appId", a.AppID, func() string { return derivedID(tid, "app", a.Name) })
	if err != nil {
		return err
	}
	objID, err := guidOr(a.pos, "objectId", path+".objectId", a.ObjectID, func() string { return derivedID(tid, "sp", a.Name) })
	if err != nil {
		return err
	}
	ca := &cloud.Application{TenantID: tid, Name: a.Name, AppID: appID, ObjectID: objID}
	for si, s := range a.Secrets {
		if s.Value == "" {
			return fail(s.pos, "value", fmt.Sprintf("%s.secrets[%d].value", path, si), "is required")
		}
		ca.Secrets = append(ca.Secrets, cloud.PasswordCredential{KeyID: derivedID(appID, "secret", fmt.Sprint(si)), Value: s.Value, EndDate: s.EndDate})
	}
	for ci, c := range a.Certificates {
		blk, _ := pem.Decode([]byte(c.PEM))
		if blk == nil {
			return fail(c.pos, "pem", fmt.Sprintf("%s.certificates[%d].pem", path, ci), "holds no PEM block")
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fail(c.pos, "pem", fmt.Sprintf("%s.certificates[%d].pem", path, ci), "not a certificate: %v", err)
		}
		ca.Certificates = append(ca.Certificates, cloud.CertificateCredential{KeyID: derivedID(appID, "cert", fmt.Sprint(ci)), DER: cert.Raw, End: cert.NotAfter})
	}
	fics, err := federated(a.FederatedCredentials, path)
	if err != nil {
		return err
	}
	ca.Federated = fics
	b.st.Applications = append(b.st.Applications, ca)
	return nil
}

func (b *builder) findIdentity(ref string) *cloud.Identity {
	for _, i := range b.st.Identities {
		if strings.EqualFold(i.Name, ref) || strings.EqualFold(i.ID, ref) {
			return i
		}
	}
	return nil
}
