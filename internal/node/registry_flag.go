package node

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseRegistry reads one HOST=URL mapping of an extra registry (podid up
// --node-registry): containerd on the real nodes pulls images named HOST/…
// from URL, through its hosts.toml, so HOST is never looked up in DNS. It
// is how a registry of the user's (a private registry standing in for
// Docker Hub, say) serves the nodes from this machine.
func ParseRegistry(s string) (Registry, error) {
	host, endpoint, ok := strings.Cut(s, "=")
	host, endpoint = strings.TrimSpace(host), strings.TrimSpace(endpoint)
	if !ok || host == "" || endpoint == "" {
		return Registry{}, fmt.Errorf("registry mapping %q: want HOST=URL, e.g. registry.example.test=http://127.0.0.1:5001", s)
	}
	// HOST is the first part of an image reference: a name, maybe with a
	// port, never a URL or a path.
	if strings.ContainsAny(host, "/@ ") || strings.Contains(host, "://") {
		return Registry{}, fmt.Errorf("registry mapping %q: %q is not a registry host name as images name it (no scheme or path), e.g. registry.example.test", s, host)
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Registry{}, fmt.Errorf("registry mapping %q: %q is not a registry URL; want http:// or https:// and host[:port] only, e.g. http://127.0.0.1:5001", s, endpoint)
	}
	return Registry{Host: strings.ToLower(host), Endpoint: u.Scheme + "://" + u.Host}, nil
}

// ParseRegistries reads every mapping of ss, naming the first bad one.
func ParseRegistries(ss []string) ([]Registry, error) {
	out := make([]Registry, 0, len(ss))
	seen := map[string]bool{}
	for _, s := range ss {
		r, err := ParseRegistry(s)
		if err != nil {
			return nil, err
		}
		if seen[r.Host] {
			return nil, fmt.Errorf("registry host %s is mapped twice; give each host one URL", r.Host)
		}
		seen[r.Host] = true
		out = append(out, r)
	}
	return out, nil
}
