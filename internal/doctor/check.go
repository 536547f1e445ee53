package doctor

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Check is one independent diagnosis.
type Check interface {
	// Name is the check's kebab-case name, stable across releases: users
	// grep for it and --check selects by it.
	Name() string
	// Run examines the facts and returns its findings. It must not do
	// I/O or modify f: checks run in parallel over the same facts. A
	// check with nothing to examine in scope returns nothing; one that
	// found no problem returns a Pass finding saying what it examined.
	Run(f *Facts) []Finding
}

// CheckFunc adapts a function to Check.
type CheckFunc struct {
	CheckName string
	Fn        func(f *Facts) []Finding
}

// Name returns CheckName.
func (c CheckFunc) Name() string { return c.CheckName }

// Run calls Fn.
func (c CheckFunc) Run(f *Facts) []Finding { return c.Fn(f) }

// Run runs every check over f in parallel and returns the report, worst
// findings first, then by check and object. A check that panics becomes a
// failed finding naming it rather than ending the run.
func Run(f *Facts, checks []Check) Report {
	results := make([][]Finding, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					results[i] = []Finding{{Check: c.Name(), Status: Fail, Message: fmt.Sprintf("the check itself failed: %v; please report it", p)}}
				}
			}()
			found := c.Run(f)
			for j := range found {
				found[j].Check = c.Name()
				found[j].Message = sentence(found[j].Message)
			}
			results[i] = found
		}()
	}
	wg.Wait()
	var all []Finding
	for _, r := range results {
		all = append(all, r...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Status.severity() != b.Status.severity() {
			return a.Status.severity() > b.Status.severity()
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.Object < b.Object
	})
	return Report{Scope: f.Scope.String(), Findings: all}
}

// sentence makes every message read alike: a capital first letter and a
// full stop, whichever check wrote it.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.ContainsAny(s[len(s)-1:], ".!?:") {
		s += "."
	}
	return s
}
