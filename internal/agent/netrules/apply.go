package netrules

import (
	"errors"
	"fmt"
	"strings"
)

// iptables lists the calls the applier makes; go-iptables' *IPTables has
// them all.
type iptables interface {
	ChainExists(table, chain string) (bool, error)
	NewChain(table, chain string) error
	ClearChain(table, chain string) error
	List(table, chain string) ([]string, error)
	Exists(table, chain string, rulespec ...string) (bool, error)
	Insert(table, chain string, pos int, rulespec ...string) error
	Append(table, chain string, rulespec ...string) error
	DeleteIfExists(table, chain string, rulespec ...string) error
	ClearAndDeleteChain(table, chain string) error
}

// Applier makes the node's rules match a plan.
type Applier struct {
	ipt iptables
}

// Sync creates missing chains and jumps and rewrites any chain whose rules
// differ from the plan (count, content or final rule). It returns the
// chains it had to create or repair; none means there was no drift.
func (a *Applier) Sync(p Plan) ([]string, error) {
	var repaired []string
	for _, c := range p.Chains {
		fixed, err := a.syncChain(c)
		if err != nil {
			return repaired, fmt.Errorf("sync %s/%s: %w", c.Table, c.Name, err)
		}
		if fixed {
			repaired = append(repaired, c.Table+"/"+c.Name)
		}
	}
	return repaired, nil
}

func (a *Applier) syncChain(c Chain) (bool, error) {
	fixed := false
	ok, err := a.ipt.ChainExists(c.Table, c.Name)
	if err != nil {
		return false, err
	}
	if !ok {
		if err := a.ipt.NewChain(c.Table, c.Name); err != nil {
			return false, err
		}
		fixed = true
	}
	same, err := a.matches(c)
	if err != nil {
		return false, err
	}
	if !same {
		done := false
		if c.Unordered && ok {
			if done, err = a.syncRuleByRule(c); err != nil {
				return false, err
			}
		}
		if !done {
			if err := a.rewrite(c); err != nil {
				return false, err
			}
		}
		fixed = true
	}
	jumpFixed, err := a.syncJump(c)
	return fixed || jumpFixed, err
}

// rewrite empties the chain and appends the planned rules.
func (a *Applier) rewrite(c Chain) error {
	if err := a.ipt.ClearChain(c.Table, c.Name); err != nil {
		return err
	}
	for _, r := range c.Rules {
		if err := a.ipt.Append(c.Table, c.Name, r...); err != nil {
			return err
		}
	}
	return nil
}

// syncRuleByRule brings an Unordered chain to the plan one rule at a time:
// missing rules go in first (ahead of the final rule), then rules not
// planned go out, so a pod whose rule stays keeps it throughout (a
// rewrite would leave every pod without its redirect, refused by the
// guard, while the chain fills again). It reports false when the chain's
// final rule is not the planned one (having changed nothing) or when the
// chain still differs from the plan afterwards; the caller then rewrites
// the chain.
func (a *Applier) syncRuleByRule(c Chain) (bool, error) {
	if len(c.Rules) == 0 {
		return false, nil
	}
	last := strings.Join(c.Rules[len(c.Rules)-1], " ")
	listed, err := a.ipt.List(c.Table, c.Name)
	if err != nil {
		return false, err
	}
	rules := appended(listed, c.Name)
	if len(rules) == 0 || ruleText(rules[len(rules)-1], c.Name) != last {
		return false, nil
	}
	body := c.Rules[:len(c.Rules)-1]
	if err := a.insertMissing(c.Table, c.Name, body); err != nil {
		return false, err
	}
	planned := map[string]bool{}
	for _, r := range body {
		planned[strings.Join(r, " ")] = true
	}
	kept := map[string]bool{}
	for _, l := range rules[:len(rules)-1] {
		text := ruleText(l, c.Name)
		if planned[text] && !kept[text] {
			kept[text] = true
			continue
		}
		if err := a.ipt.DeleteIfExists(c.Table, c.Name, strings.Fields(text)...); err != nil {
			return false, fmt.Errorf("delete rule %q: %w", text, err)
		}
	}
	// A planned rule iptables lists in other words than planned was
	// deleted above as unknown; it goes back in.
	if err := a.insertMissing(c.Table, c.Name, body); err != nil {
		return false, err
	}
	return a.matches(c)
}

// insertMissing inserts, at the head of the chain, each rule not in it.
func (a *Applier) insertMissing(table, chain string, rules []Rule) error {
	for _, r := range rules {
		ok, err := a.ipt.Exists(table, chain, r...)
		if err != nil {
			return err
		}
		if !ok {
			if err := a.ipt.Insert(table, chain, 1, r...); err != nil {
				return fmt.Errorf("insert rule %q: %w", strings.Join(r, " "), err)
			}
		}
	}
	return nil
}

// ruleText is a listed rule's words without "-A chain".
func ruleText(listed, chain string) string {
	return strings.Join(strings.Fields(strings.TrimPrefix(listed, "-A "+chain+" ")), " ")
}

// syncJump leaves exactly one jump to the chain in its hook: the planned
// one. Jumps left by an agent planned for other addresses (another port,
// another metadata address) and duplicates are deleted, so traffic never
// takes a stale path to the chain.
func (a *Applier) syncJump(c Chain) (bool, error) {
	planned, err := a.ipt.Exists(c.Table, c.Hook, c.Jump...)
	if err != nil {
		return false, err
	}
	jumps, err := a.jumpsTo(c.Table, c.Hook, c.Name)
	if err != nil {
		return false, err
	}
	if planned && len(jumps) == 1 {
		return false, nil
	}
	// The planned jump goes in before stale ones go out, so the chain is
	// never unreachable in between.
	if !planned {
		if err := a.ipt.Insert(c.Table, c.Hook, 1, c.Jump...); err != nil {
			return false, err
		}
	}
	kept := !planned // a jump just inserted is not among those listed before
	for _, j := range jumps {
		if !kept && listedAs(j, c.Jump) {
			kept = true
			continue
		}
		if err := a.ipt.DeleteIfExists(c.Table, c.Hook, j...); err != nil {
			return true, fmt.Errorf("delete stale jump %q: %w", strings.Join(j, " "), err)
		}
	}
	return true, nil
}

// listedAs reports whether a rule as iptables lists it is the planned rule:
// the listing adds words ("-m tcp" before "--dport") but keeps the planned
// words in order.
func listedAs(listed, planned Rule) bool {
	i := 0
	for _, w := range listed {
		if i < len(planned) && w == planned[i] {
			i++
		}
	}
	return i == len(planned)
}

// jumpsTo lists the rules of hook whose target is chain, as rule words
// without "-A hook".
func (a *Applier) jumpsTo(table, hook, chain string) ([]Rule, error) {
	listed, err := a.ipt.List(table, hook)
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, l := range appended(listed, hook) {
		words := strings.Fields(strings.TrimPrefix(l, "-A "+hook+" "))
		if n := len(words); n >= 2 && words[n-2] == "-j" && words[n-1] == chain {
			out = append(out, words)
		}
	}
	return out, nil
}

// matches reports whether the chain holds exactly the planned rules: as
// many, each present, and the planned final rule last.
func (a *Applier) matches(c Chain) (bool, error) {
	listed, err := a.ipt.List(c.Table, c.Name)
	if err != nil {
		return false, err
	}
	rules := appended(listed, c.Name)
	if len(rules) != len(c.Rules) {
		return false, nil
	}
	if len(rules) > 0 && !endsLike(rules[len(rules)-1], c.Rules[len(c.Rules)-1]) {
		return false, nil
	}
	for _, r := range c.Rules {
		ok, err := a.ipt.Exists(c.Table, c.Name, r...)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// appended keeps the "-A chain ..." lines of a listing.
func appended(listed []string, chain string) []string {
	var out []string
	for _, l := range listed {
		if strings.HasPrefix(l, "-A "+chain+" ") {
			out = append(out, l)
		}
	}
	return out
}

// endsLike reports whether a listed rule ends with the planned rule's
// target ("-j X ..."), which iptables prints as given.
func endsLike(listed string, planned Rule) bool {
	for i, w := range planned {
		if w == "-j" {
			return strings.HasSuffix(listed, strings.Join(planned[i:], " "))
		}
	}
	return true
}

// hooks are the built-in chains the agent's chains are jumped to from.
var hooks = []struct{ table, hook string }{{"nat", "PREROUTING"}, {"filter", "FORWARD"}, {"filter", "INPUT"}}

// Chains lists the names of the chains the agent owns.
var Chains = []string{NATChain, ForwardGuard, AgentGuard}

// RemoveAll deletes every jump to the agent's chains and the chains
// themselves, whatever addresses they were planned for; missing ones are
// fine. It is the uninstall step: the agent never calls it, so the
// redirect and the guard outlive every agent restart. It returns the
// chains it deleted.
func (a *Applier) RemoveAll() ([]string, error) {
	var errs []error
	for _, h := range hooks {
		for _, chain := range Chains {
			jumps, err := a.jumpsTo(h.table, h.hook, chain)
			if err != nil {
				errs = append(errs, fmt.Errorf("list %s/%s: %w", h.table, h.hook, err))
				continue
			}
			for _, j := range jumps {
				if err := a.ipt.DeleteIfExists(h.table, h.hook, j...); err != nil {
					errs = append(errs, fmt.Errorf("delete jump to %s from %s/%s: %w", chain, h.table, h.hook, err))
				}
			}
		}
	}
	var removed []string
	for _, table := range []string{"nat", "filter"} {
		for _, chain := range Chains {
			ok, err := a.ipt.ChainExists(table, chain)
			if err == nil && ok {
				err = a.ipt.ClearAndDeleteChain(table, chain)
				if err == nil {
					removed = append(removed, table+"/"+chain)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("delete %s/%s: %w", table, chain, err))
			}
		}
	}
	return removed, errors.Join(errs...)
}
