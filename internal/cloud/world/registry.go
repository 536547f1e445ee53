package world

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/acr"
)

// Registry is an Azure Container Registry in a resource group.
type Registry struct {
	Name string `yaml:"name"`
	// SKU is Basic (default), Standard or Premium.
	SKU string `yaml:"sku"`
	// AnonymousPull lets clients without credentials pull (Standard, Premium).
	AnonymousPull bool `yaml:"anonymousPull"`
	// RoleAssignmentMode is rbac (default: AcrPull, AcrPush, Reader, ...)
	// or rbac-abac (repository roles with repository-name conditions).
	RoleAssignmentMode string `yaml:"roleAssignmentMode"`
	// ARMTokens is "enabled" (default) or "disabled": whether
	// /oauth2/exchange takes Resource Manager tokens.
	ARMTokens string `yaml:"armTokens"`
	// PublicNetworkAccess is Enabled (default) or Disabled (Premium).
	PublicNetworkAccess string `yaml:"publicNetworkAccess"`
	// NetworkRules are the firewall (Premium).
	NetworkRules *NetworkRules `yaml:"networkRules"`
	// Images are loaded into the registry when the cloud starts.
	Images []RegistryImage `yaml:"images"`
	pos
}

// NetworkRules are a registry's firewall: DefaultAction Allow or Deny,
// and the IPv4 addresses or CIDR ranges let through when it is Deny.
type NetworkRules struct {
	DefaultAction string   `yaml:"defaultAction"`
	IPRules       []string `yaml:"ipRules"`
	pos
}

// RegistryImage tags a manifest of a local OCI image layout as
// repository:tag. Layout is a directory, relative to the world file; Ref
// picks a manifest by its org.opencontainers.image.ref.name when the
// layout holds several.
type RegistryImage struct {
	Repository string `yaml:"repository"`
	Tag        string `yaml:"tag"`
	Layout     string `yaml:"layout"`
	Ref        string `yaml:"ref"`
	pos
}

func (r *Registry) UnmarshalYAML(n *yaml.Node) error {
	type raw Registry
	return decodeStrict(n, (*raw)(r), &r.pos)
}

func (r *NetworkRules) UnmarshalYAML(n *yaml.Node) error {
	type raw NetworkRules
	return decodeStrict(n, (*raw)(r), &r.pos)
}

func (r *RegistryImage) UnmarshalYAML(n *yaml.Node) error {
	type raw RegistryImage
	return decodeStrict(n, (*raw)(r), &r.pos)
}

var (
	registryNameRE = regexp.MustCompile(`^[a-zA-Z0-9]{5,50}$`)
	// repositoryRE is the distribution spec's repository name grammar.
	repositoryRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
)

func conditionVersion(cond string) string {
	if cond == "" {
		return ""
	}
	return "2.0"
}

func (b *builder) registries(tid, sid string, g ResourceGroup, loc, path string) error {
	for ri, r := range g.Registries {
		rp := fmt.Sprintf("%s.registries[%d]", path, ri)
		if !registryNameRE.MatchString(r.Name) {
			return fail(r.pos, "name", rp+".name", "%q is not a valid registry name (5-50 letters and digits)", r.Name)
		}
		if b.findRegistry(r.Name) != nil {
			return fail(r.pos, "name", rp+".name", "registry %q is declared twice (registry names are global)", r.Name)
		}
		cr := &cloud.Registry{ID: "/subscriptions/" + sid + "/resourceGroups/" + g.Name + "/providers/Microsoft.ContainerRegistry/registries/" + r.Name,
			Name: r.Name, SubscriptionID: sid, ResourceGroup: g.Name, Location: loc, TenantID: tid,
			AnonymousPullEnabled: r.AnonymousPull, PublicNetworkAccess: acr.AccessEnabled, DefaultAction: acr.ActionAllow, RoleAssignmentMode: cloud.RoleModeRBAC}
		var ok bool
		if cr.SKU, ok = pick(r.SKU, "Basic", "Basic", "Standard", "Premium"); !ok {
			return fail(r.pos, "sku", rp+".sku", "%q is not one of Basic, Standard, Premium", r.SKU)
		}
		switch r.RoleAssignmentMode {
		case "", "rbac":
		case "rbac-abac":
			cr.RoleAssignmentMode = cloud.RoleModeABAC
		default:
			return fail(r.pos, "roleAssignmentMode", rp+".roleAssignmentMode", "%q is not one of rbac, rbac-abac", r.RoleAssignmentMode)
		}
		arm, ok := pick(r.ARMTokens, "enabled", "enabled", "disabled")
		if !ok {
			return fail(r.pos, "armTokens", rp+".armTokens", "%q is not one of enabled, disabled", r.ARMTokens)
		}
		cr.ARMTokensDisabled = arm == "disabled"
		if cr.PublicNetworkAccess, ok = pick(r.PublicNetworkAccess, acr.AccessEnabled, acr.AccessEnabled, acr.AccessDisabled); !ok {
			return fail(r.pos, "publicNetworkAccess", rp+".publicNetworkAccess", "%q is not one of Enabled, Disabled", r.PublicNetworkAccess)
		}
		if n := r.NetworkRules; n != nil {
			if cr.DefaultAction, ok = pick(n.DefaultAction, acr.ActionAllow, acr.ActionAllow, acr.ActionDeny); !ok {
				return fail(n.pos, "defaultAction", rp+".networkRules.defaultAction", "%q is not one of Allow, Deny", n.DefaultAction)
			}
			for ii, ip := range n.IPRules {
				if _, err := acr.ParseIPRule(ip); err != nil {
					return fail(n.pos, "ipRules", fmt.Sprintf("%s.networkRules.ipRules[%d]", rp, ii), "%v", err)
				}
			}
			cr.IPRules = append([]string(nil), n.IPRules...)
		}
		if cr.SKU != "Premium" && (cr.DefaultAction == acr.ActionDeny || cr.PublicNetworkAccess == acr.AccessDisabled) {
			return fail(r.pos, "sku", rp+".sku", "network rules and disabled public access need sku Premium, not %s", cr.SKU)
		}
		if cr.SKU == "Basic" && cr.AnonymousPullEnabled {
			return fail(r.pos, "anonymousPull", rp+".anonymousPull", "anonymous pull needs sku Standard or Premium, not Basic")
		}
		for ii, im := range r.Images {
			ip := fmt.Sprintf("%s.images[%d]", rp, ii)
			if !repositoryRE.MatchString(im.Repository) {
				return fail(im.pos, "repository", ip+".repository", "%q is not a valid repository name (lower-case path components)", im.Repository)
			}
			if !tagRE.MatchString(im.Tag) {
				return fail(im.pos, "tag", ip+".tag", "%q is not a valid tag", im.Tag)
			}
			if im.Layout == "" {
				return fail(im.pos, "layout", ip+".layout", "is required: an OCI image layout directory")
			}
			dir := im.Layout
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(b.baseDir, dir)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return fail(im.pos, "layout", ip+".layout", "%v", err)
			}
			if _, _, err := cloud.LayoutImage(abs, im.Ref); err != nil {
				return fail(im.pos, "layout", ip+".layout", "%v", err)
			}
			cr.Images = append(cr.Images, cloud.RegistryImage{Repository: im.Repository, Tag: im.Tag, Layout: abs, Ref: im.Ref})
		}
		b.st.Registries = append(b.st.Registries, cr)
	}
	return nil
}

// pick returns the allowed value v spells (case-insensitively), def when empty.
func pick(v, def string, allowed ...string) (string, bool) {
	if v == "" {
		return def, true
	}
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a, true
		}
	}
	return "", false
}

func (b *builder) findRegistry(name string) *cloud.Registry {
	for _, r := range b.st.Registries {
		if strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return nil
}
