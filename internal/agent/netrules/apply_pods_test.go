package netrules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// recording is memIPTables that records each change made to the NAT chain.
type recording struct {
	*memIPTables
	ops []string
}

func (r *recording) ClearChain(t, c string) error {
	r.ops = append(r.ops, "clear "+c)
	return r.memIPTables.ClearChain(t, c)
}

func (r *recording) Insert(t, c string, pos int, rule ...string) error {
	r.ops = append(r.ops, fmt.Sprintf("insert %s %d %s", c, pos, strings.Join(rule, " ")))
	return r.memIPTables.Insert(t, c, pos, rule...)
}

func (r *recording) DeleteIfExists(t, c string, rule ...string) error {
	r.ops = append(r.ops, "delete "+c+" "+strings.Join(rule, " "))
	return r.memIPTables.DeleteIfExists(t, c, rule...)
}

// When pods come and go, their rules are added and deleted one by one: the
// rule of a pod that stays is never deleted and the chain never emptied,
// so that pod's metadata traffic never meets the guard meanwhile.
func TestSyncChangesPodRulesOneByOne(t *testing.T) {
	agent := netip.MustParseAddrPort("10.240.0.4:2579")
	pod := func(iface, ip string) Pod { return Pod{Interface: iface, IP: netip.MustParseAddr(ip), Bridged: true} }
	plan := func(pods ...Pod) Plan {
		p, err := MakePlan(Input{Agent: agent, PerPod: true, Pods: pods})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := pod("veth-a", "10.244.0.11"), pod("veth-b", "10.244.0.12"), pod("veth-c", "10.244.0.13")
	rule := func(p Pod) string {
		return "-s " + p.IP.String() + "/32 -p tcp -m physdev --physdev-in " + p.Interface + " -j DNAT --to-destination " + agent.String()
	}
	m := &recording{memIPTables: newMem()}
	ap := &Applier{ipt: m}
	if _, err := ap.Sync(plan(a, b)); err != nil {
		t.Fatal(err)
	}
	m.ops = nil

	// b goes, c comes.
	repaired, err := ap.Sync(plan(a, c))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(repaired, []string{"nat/" + NATChain}) {
		t.Fatalf("repaired %v, want the NAT chain alone", repaired)
	}
	want := []string{"insert " + NATChain + " 1 " + rule(c), "delete " + NATChain + " " + rule(b)}
	if !slices.Equal(m.ops, want) {
		t.Fatalf("changes\n%s\nwant\n%s", strings.Join(m.ops, "\n"), strings.Join(want, "\n"))
	}
	got := m.chains["nat/"+NATChain]
	if len(got) != 3 || got[2] != "-j RETURN" || !slices.Contains(got, rule(a)) || !slices.Contains(got, rule(c)) {
		t.Fatalf("NAT chain %q", got)
	}

	// A rule appended after the final RETURN would never be reached, and
	// the chain is not what was planned: it is rewritten.
	m.chains["nat/"+NATChain] = append(m.chains["nat/"+NATChain], "-j ACCEPT")
	m.ops = nil
	if _, err := ap.Sync(plan(a, c)); err != nil {
		t.Fatal(err)
	}
	if len(m.ops) == 0 || m.ops[0] != "clear "+NATChain {
		t.Fatalf("changes %q; want the chain rewritten", m.ops)
	}
	if got := m.chains["nat/"+NATChain]; got[len(got)-1] != "-j RETURN" || len(got) != 3 {
		t.Fatalf("NAT chain %q", got)
	}

	// A duplicated rule is deleted once; the other copy stays.
	m.chains["nat/"+NATChain] = slices.Insert(m.chains["nat/"+NATChain], 0, rule(a))
	if _, err := ap.Sync(plan(a, c)); err != nil {
		t.Fatal(err)
	}
	if got := m.chains["nat/"+NATChain]; len(got) != 3 || strings.Count(strings.Join(got, "\n"), rule(a)) != 1 {
		t.Fatalf("NAT chain after a duplicate %q", got)
	}
}
