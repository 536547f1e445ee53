//go:build linux

package netrules

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/podid/podid/internal/image"
	"github.com/podid/podid/internal/testenv"
)

// debianLoaders are the dynamic loaders of Debian's libc6, by GOARCH.
var debianLoaders = map[string]string{
	"amd64": "/lib64/ld-linux-x86-64.so.2",
	"arm64": "/lib/ld-linux-aarch64.so.1",
}

// debianIptables runs the iptables the podid image carries for this
// machine's architecture: the unpacked Debian packages, started through
// their own dynamic loader with their own libraries and extension modules,
// on this machine's kernel and tables.
type debianIptables struct {
	root, loader, libs, xtables string
}

func newDebianIptables(t *testing.T) debianIptables {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "needs root to read the node's iptables")
	}
	for _, tool := range []string{"apt-get", "dpkg-deb", "iptables-nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "needs %s", tool)
		}
	}
	specs, err := image.Lookup(image.NamePodid)
	if err != nil {
		t.Fatal(err)
	}
	root, err := image.DebianRoot(context.Background(), "", runtime.GOARCH, specs[0].Debian.Packages)
	if err != nil {
		t.Fatal(err)
	}
	xtables, _ := filepath.Glob(filepath.Join(root, "usr/lib/*-linux-gnu/xtables"))
	if len(xtables) != 1 {
		t.Fatalf("the unpacked packages hold %d xtables folders, want one", len(xtables))
	}
	multiarch := filepath.Base(filepath.Dir(xtables[0]))
	return debianIptables{
		root:    root,
		loader:  filepath.Join(root, debianLoaders[runtime.GOARCH]),
		libs:    filepath.Join(root, "lib", multiarch) + ":" + filepath.Join(root, "usr/lib", multiarch),
		xtables: xtables[0],
	}
}

// command runs tool (e.g. iptables-nft-save): the multi-call binary picks
// the tool by the name it is started as, the symlink's.
func (d debianIptables) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.loader, append([]string{"--library-path", d.libs, "--inhibit-cache",
		filepath.Join(d.root, "usr/sbin", tool)}, args...)...)
	// Extension modules from the packages too, not from this machine.
	cmd.Env = append(os.Environ(), "XTABLES_LIBDIR="+d.xtables)
	return cmd
}

func (d debianIptables) save(ctx context.Context, save string) ([]byte, error) {
	out, err := d.command(ctx, save).Output()
	if err != nil {
		return nil, fmt.Errorf("run unpacked %s: %w", save, err)
	}
	return out, nil
}

func TestImageIptablesReadTheHostTables(t *testing.T) {
	d := newDebianIptables(t)
	ctx := context.Background()

	// Every library comes from the packages, none from this machine.
	out, err := exec.Command(d.loader, "--library-path", d.libs, "--inhibit-cache", "--list",
		filepath.Join(d.root, "usr/sbin/xtables-nft-multi")).CombinedOutput()
	if err != nil {
		t.Fatalf("list libraries: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, found, ok := strings.Cut(line, "=> "); ok && !strings.HasPrefix(found, d.root) {
			t.Errorf("xtables-nft-multi loads %q from outside the packages", line)
		}
	}

	// A chain the host's iptables writes is seen by the unpacked one.
	chain := fmt.Sprintf("PODID-DEB-%d", os.Getpid())
	host := func(args ...string) {
		if out, err := exec.Command("iptables-nft", append([]string{"-w", "5", "-t", "nat"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("iptables-nft %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	host("-N", chain)
	t.Cleanup(func() {
		_ = exec.Command("iptables-nft", "-w", "5", "-t", "nat", "-F", chain).Run()
		_ = exec.Command("iptables-nft", "-w", "5", "-t", "nat", "-X", chain).Run()
	})
	host("-A", chain, "-d", "169.254.169.254/32", "-p", "tcp", "-j", "RETURN")
	listed, err := d.command(ctx, "iptables-nft", "-t", "nat", "-S", chain).CombinedOutput()
	if err != nil {
		t.Fatalf("unpacked iptables-nft -t nat -S: %v\n%s", err, listed)
	}
	want := "-A " + chain + " -d 169.254.169.254/32 -p tcp -j RETURN"
	if !strings.Contains(string(listed), want) {
		t.Fatalf("unpacked iptables-nft lists\n%s\nwant %q", listed, want)
	}

	// --iptables=auto decides the same through the image's binaries as
	// through the host's.
	nft, legacy := ProbeBackends(ctx, d.save)
	if nft.Err != nil {
		t.Fatal(nft.Err)
	}
	if nft.Rules < 1 {
		t.Fatalf("unpacked iptables-nft-save reported %+v, without the rule just added", nft)
	}
	hostNFT, hostLegacy := ProbeBackends(ctx, ExecSave)
	got, want2 := ChooseBackend(nft, legacy), ChooseBackend(hostNFT, hostLegacy)
	if got.Binary != want2.Binary || nft.Hint != hostNFT.Hint {
		t.Fatalf("the image's iptables chose %+v (nft %+v, legacy %+v), the host's %+v (nft %+v, legacy %+v)",
			got, nft, legacy, want2, hostNFT, hostLegacy)
	}
	t.Logf("--iptables=auto: %s because %s", got.Binary, got.Reason)

	// go-iptables, as the agent drives it, accepts the unpacked binary.
	wrapper := filepath.Join(t.TempDir(), got.Binary)
	script := fmt.Sprintf("#!/bin/sh\nXTABLES_LIBDIR=%q exec %q --library-path %q --inhibit-cache %q \"$@\"\n",
		d.xtables, d.loader, d.libs, filepath.Join(d.root, "usr/sbin", got.Binary))
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := NewApplier(wrapper)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ObserveNAT(netip.MustParseAddrPort("169.254.169.254:80")); err != nil {
		t.Fatalf("observe the nat table through the unpacked %s: %v", got.Binary, err)
	}
}
