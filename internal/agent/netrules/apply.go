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
		if err := a.ipt.ClearChain(c.Table, c.Name); err != nil {
			return false, err
		}
		for _, r := range c.Rules {
			if err := a.ipt.Append(c.Table, c.Name, r...); err != nil {
				return false, err
			}
		}
		fixed = true
	}
	ok, err = a.ipt.Exists(c.Table, c.Hook, c.Jump...)
	if err != nil {
		return false, err
	}
	if !ok {
		if err := a.ipt.Insert(c.Table, c.Hook, 1, c.Jump...); err != nil {
			return false, err
		}
		fixed = true
	}
	return fixed, nil
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

// Remove deletes the jumps and chains of the plan; missing ones are fine.
func (a *Applier) Remove(p Plan) error {
	var errs []error
	for _, c := range p.Chains {
		if err := a.ipt.DeleteIfExists(c.Table, c.Hook, c.Jump...); err != nil {
			errs = append(errs, fmt.Errorf("delete jump to %s/%s: %w", c.Table, c.Name, err))
		}
		ok, err := a.ipt.ChainExists(c.Table, c.Name)
		if err == nil && ok {
			err = a.ipt.ClearAndDeleteChain(c.Table, c.Name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("delete %s/%s: %w", c.Table, c.Name, err))
		}
	}
	return errors.Join(errs...)
}
