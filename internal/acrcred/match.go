package acrcred

import (
	"fmt"
	"strings"
)

// RegistrySuffixes are the registry domains of Azure's clouds, as AKS's
// credential provider config lists them in matchImages.
var RegistrySuffixes = []string{".azurecr.io", ".azurecr.cn", ".azurecr.de", ".azurecr.us"}

// Mirror says that images named with Source are pulled from the ACR Target
// (network-isolated clusters mirror mcr.microsoft.com into their registry).
type Mirror struct {
	Source, Target string
}

// ParseMirrors parses --registry-mirror: comma-separated source:target
// pairs of registry host names, such as
// "mcr.microsoft.com:myacr.azurecr.io".
func ParseMirrors(s string) ([]Mirror, error) {
	var out []Mirror
	for _, pair := range strings.Split(strings.ReplaceAll(s, " ", ""), ",") {
		if pair == "" {
			continue
		}
		src, dst, ok := strings.Cut(pair, ":")
		if !ok || src == "" || dst == "" || strings.Contains(dst, ":") {
			return nil, fmt.Errorf("--registry-mirror: %q is not source:target; write pairs of host names such as mcr.microsoft.com:myacr.azurecr.io, separated by commas", pair)
		}
		out = append(out, Mirror{Source: strings.ToLower(src), Target: strings.ToLower(dst)})
	}
	return out, nil
}

// Image is an image reference split into what the provider and check-acr
// use. Registry is empty for Docker Hub's short names.
type Image struct {
	Registry   string
	Repository string
	// Reference is the tag, or the digest (sha256:...), "latest" when absent.
	Reference string
}

// String writes the image back as registry/repository:tag or @digest.
func (i Image) String() string {
	sep := ":"
	if strings.Contains(i.Reference, ":") {
		sep = "@"
	}
	return i.Registry + "/" + i.Repository + sep + i.Reference
}

// ParseImage splits an image reference. The first path element is the
// registry when it holds a dot or a colon or is localhost, as container
// runtimes decide.
func ParseImage(ref string) (Image, error) {
	if ref == "" {
		return Image{}, fmt.Errorf("the image is empty; name one such as myacr.azurecr.io/app:v1")
	}
	var im Image
	rest := ref
	if first, after, ok := strings.Cut(ref, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		im.Registry, rest = strings.ToLower(first), after
	}
	if name, digest, ok := strings.Cut(rest, "@"); ok {
		im.Repository, im.Reference = name, digest
	} else if i := strings.LastIndex(rest, ":"); i >= 0 {
		im.Repository, im.Reference = rest[:i], rest[i+1:]
	} else {
		im.Repository, im.Reference = rest, "latest"
	}
	if im.Repository == "" || im.Reference == "" {
		return Image{}, fmt.Errorf("image %q has no repository or tag; write registry/repository:tag", ref)
	}
	return im, nil
}

// IsACRHost reports whether host (optionally with a port) is an Azure
// Container Registry login server: a name under one of suffixes.
func IsACRHost(host string, suffixes []string) bool {
	h := strings.ToLower(host)
	if i := strings.LastIndex(h, ":"); i >= 0 {
		h = h[:i]
	}
	for _, s := range suffixes {
		if s != "" && strings.HasSuffix(h, strings.ToLower(s)) && len(h) > len(s) {
			return true
		}
	}
	return false
}

// Target is the registry the provider gets credentials for.
type Target struct {
	// LoginServer is the ACR host to talk to.
	LoginServer string
	// Source is the mirrored registry the image names, when a mirror
	// applied; its key gets the same credentials.
	Source string
}

// TargetOf decides which ACR, if any, serves image: a mirror's target when
// the image's registry is a mirror source, else the image's own registry
// when it is an ACR host. ok is false for other registries.
func TargetOf(image string, mirrors []Mirror, suffixes []string) (t Target, ok bool, err error) {
	im, err := ParseImage(image)
	if err != nil {
		return Target{}, false, err
	}
	for _, m := range mirrors {
		if im.Registry == m.Source && IsACRHost(m.Target, suffixes) {
			return Target{LoginServer: m.Target, Source: m.Source}, true, nil
		}
	}
	if im.Registry != "" && IsACRHost(im.Registry, suffixes) {
		return Target{LoginServer: im.Registry}, true, nil
	}
	return Target{}, false, nil
}

// Suffixes are RegistrySuffixes plus the environment's own suffix.
func (env Environment) Suffixes() []string { return suffixesFor(env) }

// suffixesFor is RegistrySuffixes plus the environment's own suffix.
func suffixesFor(env Environment) []string {
	for _, s := range RegistrySuffixes {
		if strings.EqualFold(s, env.RegistrySuffix) {
			return RegistrySuffixes
		}
	}
	return append(append([]string(nil), RegistrySuffixes...), env.RegistrySuffix)
}
