package image

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Names of the catalog's images.
const (
	NamePodid    = "podid"
	NamePause    = "pause"
	NameKVReader = "kvreader"
	NameBusybox  = "busybox"
)

// nonRoot is the uid:gid of images that need no privilege; 65532 is the
// "nonroot" user of distroless images, so policies that allow-list it
// admit podid's images too.
const nonRoot = "65532:65532"

// caBundle is Debian's bundle of public CAs. It is copied into images
// that speak TLS to Azure; the embedded cloud's own CA is added at run
// time through SSL_CERT_DIR, which Go reads in addition to this file.
var caBundle = File{
	Host: "/etc/ssl/certs/ca-certificates.crt",
	Path: "/etc/ssl/certs/ca-certificates.crt",
	Hint: "apt-get install ca-certificates",
}

// iptables is Debian's iptables with both of its backends, for nmi to
// program whichever the node uses (nmi --iptables=auto picks it): the
// nf_tables one (xtables-nft-multi) and the legacy one
// (xtables-legacy-multi), the links that select a tool by name, the
// extension modules they load and /etc/protocols for protocol names.
// Their libraries come along through DT_NEEDED; the packages are those
// `apt-cache depends iptables` lists.
var iptables = DebianFiles{
	Packages: []string{
		"iptables", "libip4tc2", "libip6tc2", "libxtables12", "libmnl0",
		"libnetfilter-conntrack3", "libnfnetlink0", "libnftnl11", "libc6", "netbase",
	},
	Paths: []string{
		"/usr/sbin/xtables-nft-multi",
		"/usr/sbin/iptables-nft",
		"/usr/sbin/iptables-nft-save",
		"/usr/sbin/iptables-nft-restore",
		"/usr/sbin/ip6tables-nft",
		"/usr/sbin/ip6tables-nft-save",
		"/usr/sbin/ip6tables-nft-restore",
		"/usr/sbin/xtables-legacy-multi",
		"/usr/sbin/iptables-legacy",
		"/usr/sbin/iptables-legacy-save",
		"/usr/sbin/iptables-legacy-restore",
		"/usr/sbin/ip6tables-legacy",
		"/usr/sbin/ip6tables-legacy-save",
		"/usr/sbin/ip6tables-legacy-restore",
		"/usr/lib/*-linux-gnu/xtables",
		"/etc/protocols",
	},
}

// Catalog returns the specs of the images podid builds, sorted by name.
func Catalog() []Spec {
	return []Spec{
		{
			// Busybox gives the seed manifests' `sh -c "wget ..."`
			// containers a shell without pulling from Docker Hub. The
			// binary is the host's, so the image is host-arch only.
			Name:       NameBusybox,
			Entrypoint: []string{"/bin/sh"},
			Files: []File{{
				Host:   "/bin/busybox",
				Path:   "/bin/busybox",
				Static: true,
				Hint:   "install Debian's static busybox with: apt-get install busybox-static",
			}},
			Symlinks: []Symlink{
				{Path: "/bin/sh", Target: "busybox"},
				{Path: "/bin/wget", Target: "busybox"},
			},
			Aliases:   []string{"library/busybox:latest"},
			Platforms: []v1.Platform{HostPlatform()},
		},
		{
			// KVReader answers the seed's busybox on 127.0.0.1:8333 as
			// cmendibl3/az-keyvault-reader:0.2 would.
			Name:    NameKVReader,
			Package: "./cmd/podid-kvreader",
			User:    nonRoot,
			// The seed limits the sidecar to 16Mi; it idles near 10MiB,
			// so the GC is told to keep the heap small.
			Env:     []string{"GOMEMLIMIT=10MiB"},
			Files:   []File{caBundle},
			Aliases: []string{"cmendibl3/az-keyvault-reader:0.2"},
		},
		{
			Name:    NamePause,
			Package: "./cmd/podid-pause",
			User:    nonRoot,
		},
		{
			// Podid runs as root: nmi writes iptables rules on its node,
			// with the iptables the image carries for each platform.
			Name:    NamePodid,
			Package: "./cmd/podid",
			Files:   []File{caBundle},
			Debian:  iptables,
			Dirs:    []string{"/run"},
		},
	}
}

// Lookup returns the catalog specs with the given names, all of them when
// names is empty.
func Lookup(names ...string) ([]Spec, error) {
	all := Catalog()
	if len(names) == 0 {
		return all, nil
	}
	byName := make(map[string]Spec, len(all))
	known := make([]string, 0, len(all))
	for _, s := range all {
		byName[s.Name] = s
		known = append(known, s.Name)
	}
	sort.Strings(known)
	var out []Spec
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("no image is named %q; podid builds %s", n, strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}
