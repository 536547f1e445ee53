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
func (m *memIPTables) DeleteIfExists(t, c string, r ...string) error {
	k := m.key(t, c)
	m.chains[k] = slices.DeleteFunc(m.chains[k], func(s string) bool { return s == strings.Join(r, " ") })
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

func TestRemoveLeavesNothing(t *testing.T) {
	m := newMem()
	a := &Applier{ipt: m}
	p := testPlan(t)
	if _, err := a.Sync(p); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(p); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	if len(m.chains) != 3 || len(m.chains["nat/PREROUTING"])+len(m.chains["filter/FORWARD"])+len(m.chains["filter/INPUT"]) != 0 {
		t.Fatalf("left behind %v", m.chains)
	}
}
