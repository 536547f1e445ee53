package netrules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// memIPTables keeps rules as joined strings, per table/chain.
type memIPTables struct {
	chains map[string][]string // "table/chain" -> rules
}

func newMem() *memIPTables {
	m := &memIPTables{chains: map[string][]string{}}
	for _, c := range []string{"nat/PREROUTING", "filter/FORWARD", "filter/INPUT"} {
		m.chains[c] = nil
	}
	return m
}

func (m *memIPTables) key(t, c string) string { return t + "/" + c }

func (m *memIPTables) ChainExists(t, c string) (bool, error) {
	_, ok := m.chains[m.key(t, c)]
	return ok, nil
}
func (m *memIPTables) NewChain(t, c string) error {
	if _, ok := m.chains[m.key(t, c)]; ok {
		return fmt.Errorf("chain %s exists", c)
	}
	m.chains[m.key(t, c)] = nil
	return nil
}
func (m *memIPTables) ClearChain(t, c string) error { m.chains[m.key(t, c)] = nil; return nil }
func (m *memIPTables) List(t, c string) ([]string, error) {
	out := []string{"-N " + c}
	for _, r := range m.chains[m.key(t, c)] {
		out = append(out, "-A "+c+" "+r)
	}
	return out, nil
}
func (m *memIPTables) Exists(t, c string, r ...string) (bool, error) {
	return slices.Contains(m.chains[m.key(t, c)], strings.Join(r, " ")), nil
}
func (m *memIPTables) Insert(t, c string, pos int, r ...string) error {
	m.chains[m.key(t, c)] = slices.Insert(m.chains[m.key(t, c)], pos-1, strings.Join(r, " "))
	return nil
}
func (m *memIPTables) Append(t, c string, r ...string) error {
	m.chains[m.key(t, c)] = append(m.chains[m.key(t, c)], strings.Join(r, " "))
	return nil
}

// DeleteIfExists deletes the first matching rule, as iptables -D does.
func (m *memIPTables) DeleteIfExists(t, c string, r ...string) error {
	k := m.key(t, c)
	if i := slices.Index(m.chains[k], strings.Join(r, " ")); i >= 0 {
		m.chains[k] = slices.Delete(m.chains[k], i, i+1)
	}
	return nil
}
func (m *memIPTables) ClearAndDeleteChain(t, c string) error {
	delete(m.chains, m.key(t, c))
	return nil
}

var _ iptables = (*memIPTables)(nil)

func testPlan(t *testing.T) Plan {
	t.Helper()
	p, err := MakePlan(Input{Agent: netip.MustParseAddrPort("10.240.0.4:2579"),
		Pods: []Pod{{Interface: "veth1", IP: netip.MustParseAddr("10.244.0.11")}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSyncRepairsDrift(t *testing.T) {
	cases := map[string]struct {
		drift func(m *memIPTables) // what someone did to the node's rules
		want  []string             // chains repaired by the next Sync
	}{
		"rules in place need no repair": {drift: func(*memIPTables) {}},
		"a deleted DNAT rule is restored": {
			drift: func(m *memIPTables) { m.chains["nat/"+NATChain] = m.chains["nat/"+NATChain][1:] },
			want:  []string{"nat/" + NATChain}},
		"an extra rule is removed": {
			drift: func(m *memIPTables) {
				m.chains["nat/"+NATChain] = slices.Insert(m.chains["nat/"+NATChain], 0, "-j ACCEPT")
			},
			want: []string{"nat/" + NATChain}},
		"a guard whose final reject was replaced is rewritten": {
			drift: func(m *memIPTables) { m.chains["filter/"+ForwardGuard] = []string{"-j ACCEPT"} },
			want:  []string{"filter/" + ForwardGuard}},
		"a deleted jump is inserted again": {
			drift: func(m *memIPTables) { m.chains["filter/INPUT"] = nil },
			want:  []string{"filter/" + AgentGuard}},
		"a deleted chain is created again": {
			drift: func(m *memIPTables) {
				delete(m.chains, "nat/"+NATChain)
				m.chains["nat/PREROUTING"] = nil
			},
			want: []string{"nat/" + NATChain}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := newMem()
			a := &Applier{ipt: m}
			p := testPlan(t)
			if got, err := a.Sync(p); err != nil || len(got) != 3 {
				t.Fatalf("first sync repaired %v, %v; want all three chains created", got, err)
			}
			want := fmt.Sprint(m.chains)
			tc.drift(m)
			got, err := a.Sync(p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("repaired %v, want %v", got, tc.want)
			}
			if fmt.Sprint(m.chains) != want {
				t.Fatalf("rules after repair\n%v\nwant\n%v", m.chains, want)
			}
		})
	}
}

func TestSyncLeavesOnlyThePlannedJump(t *testing.T) {
	cases := map[string]struct {
		before []string // PREROUTING rules before the sync
		want   []string // PREROUTING rules after it
	}{
		"a jump planned for another metadata port is replaced": {
			before: []string{"-d 169.254.169.254/32 -p tcp --dport 8080 -j " + NATChain, "-j KUBE-SERVICES"},
			want:   []string{"-d 169.254.169.254/32 -p tcp --dport 80 -j " + NATChain, "-j KUBE-SERVICES"},
		},
		"a duplicated jump is deleted": {
			before: []string{"-d 169.254.169.254/32 -p tcp --dport 80 -j " + NATChain, "-d 169.254.169.254/32 -p tcp --dport 80 -j " + NATChain},
			want:   []string{"-d 169.254.169.254/32 -p tcp --dport 80 -j " + NATChain},
		},
		"other chains' jumps are kept": {
			before: []string{"-j KUBE-SERVICES", "-d 169.254.169.254/32 -j AAD-METADATA"},
			want:   []string{"-d 169.254.169.254/32 -p tcp --dport 80 -j " + NATChain, "-j KUBE-SERVICES", "-d 169.254.169.254/32 -j AAD-METADATA"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := newMem()
			m.chains["nat/PREROUTING"] = slices.Clone(tc.before)
			a := &Applier{ipt: m}
			if _, err := a.Sync(testPlan(t)); err != nil {
				t.Fatal(err)
			}
			if got := m.chains["nat/PREROUTING"]; !slices.Equal(got, tc.want) {
				t.Fatalf("PREROUTING after sync\n%q\nwant\n%q", got, tc.want)
			}
			if got, err := a.Sync(testPlan(t)); err != nil || len(got) != 0 {
				t.Fatalf("second sync repaired %v, %v; want nothing", got, err)
			}
		})
	}
}

func TestRemoveAllLeavesNothing(t *testing.T) {
	m := newMem()
	m.chains["nat/PREROUTING"] = []string{"-j KUBE-SERVICES"}
	a := &Applier{ipt: m}
	if _, err := a.Sync(testPlan(t)); err != nil {
		t.Fatal(err)
	}
	// A jump an older agent planned for another agent port stays after
	// a manual edit; RemoveAll must find it without knowing that plan.
	m.chains["filter/INPUT"] = append(m.chains["filter/INPUT"], "-d 10.240.0.4/32 -p tcp --dport 2580 -j "+AgentGuard)
	removed, err := a.RemoveAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 3 {
		t.Errorf("removed %v, want the three chains", removed)
	}
	if removed, err := a.RemoveAll(); err != nil || len(removed) != 0 {
		t.Fatalf("second RemoveAll: %v, %v; want nothing left to remove", removed, err)
	}
	want := map[string][]string{"nat/PREROUTING": {"-j KUBE-SERVICES"}, "filter/FORWARD": nil, "filter/INPUT": nil}
	if fmt.Sprint(m.chains) != fmt.Sprint(want) {
		t.Fatalf("left behind %v", m.chains)
	}
}
