package world

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/podid/podid/internal/cloud"
)

// User is a person in the tenant's directory:
//
//	users:
//	  - userPrincipalName: alice@contoso.com
//	    displayName: Alice          # default: the part before @
//	    password: s3cret            # required; sign-ins check it
//	    objectId: <GUID>            # optional; derived from the UPN otherwise
//	    disabled: false             # disabled users cannot sign in
type User struct {
	UserPrincipalName string `yaml:"userPrincipalName"`
	DisplayName       string `yaml:"displayName"`
	Password          string `yaml:"password"`
	ObjectID          string `yaml:"objectId"`
	Disabled          bool   `yaml:"disabled"`
	pos
}

// Group is a security group:
//
//	groups:
//	  - name: aks-admins
//	    objectId: <GUID>            # optional; derived from the name otherwise
//	    members: [alice@contoso.com, devs, ci-app, kubelet]
//
// Members are user principal names, names of other groups, application or
// identity names, system/<machine>, or object IDs, all of the same tenant.
type Group struct {
	Name     string   `yaml:"name"`
	ObjectID string   `yaml:"objectId"`
	Members  []string `yaml:"members"`
	pos
}

func (u *User) UnmarshalYAML(n *yaml.Node) error {
	type raw User
	return decodeStrict(n, (*raw)(u), &u.pos)
}

func (g *Group) UnmarshalYAML(n *yaml.Node) error {
	type raw Group
	return decodeStrict(n, (*raw)(g), &g.pos)
}

var upnRE = regexp.MustCompile(`^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

// people adds t's users and groups; group members resolve against every
// object of the tenant, groups included, so they run after the rest.
func (b *builder) people(tid string, t *Tenant, path string) error {
	for ui, u := range t.Users {
		up := fmt.Sprintf("%s.users[%d]", path, ui)
		if !upnRE.MatchString(u.UserPrincipalName) {
			return fail(u.pos, "userPrincipalName", up+".userPrincipalName", "%q is not a user principal name (name@domain, e.g. alice@contoso.com)", u.UserPrincipalName)
		}
		for _, x := range b.st.Users {
			if strings.EqualFold(x.UPN, u.UserPrincipalName) {
				return fail(u.pos, "userPrincipalName", up+".userPrincipalName", "user %q is declared twice", u.UserPrincipalName)
			}
		}
		if u.Password == "" {
			return fail(u.pos, "password", up+".password", "is required: sign-ins (device code approval, password) check it")
		}
		oid, err := guidOr(u.pos, "objectId", up+".objectId", u.ObjectID, func() string { return derivedID(tid, "user", u.UserPrincipalName) })
		if err != nil {
			return err
		}
		name := u.DisplayName
		if name == "" {
			name, _, _ = strings.Cut(u.UserPrincipalName, "@")
		}
		b.st.Users = append(b.st.Users, &cloud.User{TenantID: tid, ObjectID: oid, UPN: u.UserPrincipalName, DisplayName: name, Password: u.Password, Disabled: u.Disabled})
	}
	var groups []*cloud.Group
	for gi, g := range t.Groups {
		gp := fmt.Sprintf("%s.groups[%d]", path, gi)
		if g.Name == "" {
			return fail(g.pos, "name", gp+".name", "is required")
		}
		if b.findGroup(tid, g.Name) != nil {
			return fail(g.pos, "name", gp+".name", "group %q is declared twice", g.Name)
		}
		oid, err := guidOr(g.pos, "objectId", gp+".objectId", g.ObjectID, func() string { return derivedID(tid, "group", g.Name) })
		if err != nil {
			return err
		}
		cg := &cloud.Group{TenantID: tid, ObjectID: oid, Name: g.Name}
		groups = append(groups, cg)
		b.st.Groups = append(b.st.Groups, cg)
	}
	for gi, g := range t.Groups {
		for mi, ref := range g.Members {
			mp := fmt.Sprintf("%s.groups[%d].members[%d]", path, gi, mi)
			oid, err := b.member(tid, ref)
			if err != nil {
				return fail(g.pos, "members", mp, "%v", err)
			}
			if strings.EqualFold(oid, groups[gi].ObjectID) {
				return fail(g.pos, "members", mp, "group %q cannot be a member of itself", g.Name)
			}
			groups[gi].Members = append(groups[gi].Members, oid)
		}
	}
	return nil
}

// member resolves a group member reference within tenant tid.
func (b *builder) member(tid, ref string) (string, error) {
	for _, u := range b.st.Users {
		if strings.EqualFold(u.UPN, ref) {
			if u.TenantID != tid {
				return "", fmt.Errorf("user %q belongs to another tenant", ref)
			}
			return u.ObjectID, nil
		}
	}
	if g := b.findGroup(tid, ref); g != nil {
		return g.ObjectID, nil
	}
	for _, a := range b.st.Applications {
		if a.TenantID == tid && strings.EqualFold(a.Name, ref) {
			return a.ObjectID, nil
		}
	}
	if i := b.findIdentity(ref); i != nil && i.TenantID == tid {
		return i.PrincipalID, nil
	}
	if strings.HasPrefix(ref, "system/") {
		return b.principal(ref)
	}
	if _, err := uuid.Parse(ref); err == nil {
		return strings.ToLower(ref), nil
	}
	return "", fmt.Errorf("no user, group, application or identity named %q in this tenant", ref)
}

func (b *builder) findGroup(tid, name string) *cloud.Group {
	for _, g := range b.st.Groups {
		if g.TenantID == tid && strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}
