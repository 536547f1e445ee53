package doctor

import (
	"fmt"
	"sort"
	"strings"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/controller/assign"
)

// decide asks mic's own decision (assign.Desired) which assignments the
// facts call for and why the rest are missing, so the doctor never
// explains a pod differently from how mic treats it.
func decide(f *Facts) assign.Result {
	in := assign.Input{
		Identities:  f.Identities,
		Bindings:    f.Bindings,
		Exceptions:  f.Exceptions,
		ClusterWide: f.Settings.ClusterWideBindings,
	}
	in.Pods = make([]assign.Pod, 0, len(f.Pods))
	for i := range f.Pods {
		in.Pods = append(in.Pods, assign.PodFrom(&f.Pods[i]))
	}
	return assign.Desired(in)
}

// findingsWith returns mic's findings of the given reasons, in Desired's
// order.
func findingsWith(r assign.Result, reasons ...string) []assign.Finding {
	var out []assign.Finding
	for _, fd := range r.Findings {
		for _, want := range reasons {
			if fd.Reason == want {
				out = append(out, fd)
			}
		}
	}
	return out
}

// objBinding returns the AzureIdentityBinding ns/name, or nil.
func objBinding(f *Facts, ns, name string) *podidv1.AzureIdentityBinding {
	for i := range f.Bindings {
		if f.Bindings[i].Namespace == ns && f.Bindings[i].Name == name {
			return &f.Bindings[i]
		}
	}
	return nil
}

// micSaid is a mic finding as evidence: users find the same text in
// kubectl get events.
func micSaid(fd assign.Finding) string {
	return fmt.Sprintf("mic's %s event on %s %s/%s: %s", fd.Reason, fd.Object.Kind, fd.Object.Namespace, fd.Object.Name, fd.Message)
}

// pass is the one finding of a check that found nothing wrong in what it
// examined: n things, described by what.
func objPass(n int, what string) []Finding {
	if n == 0 {
		return nil
	}
	return []Finding{{Status: Pass, Message: fmt.Sprintf("%d %s", n, what)}}
}

// plural picks the singular or plural form for n.
func objPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// quoteAll quotes each string, so trailing spaces and case show.
func objQuote(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// sortedKeys returns m's keys in order.
func objSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
