package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// statusOrder is the order the table header counts statuses in.
var statusOrder = []Status{Fail, Warn, Skip, Pass}

// WriteTable writes r for a terminal: a header with the scope and the
// counts, then one row per finding in the report's order (Run's: worst
// first). A finding that did not pass is followed by its evidence and fix,
// indented under the message; passes stay on one line.
func WriteTable(w io.Writer, r Report) error {
	counts := r.Counts()
	parts := make([]string, 0, len(statusOrder))
	for _, s := range statusOrder {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "podid doctor: %s: %s\n", r.Scope, strings.Join(parts, ", "))
	if len(r.Findings) == 0 {
		b.WriteString("no findings: no check ran\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	header := [3]string{"STATUS", "CHECK", "OBJECT"}
	widths := [3]int{len(header[0]), len(header[1]), len(header[2])}
	for _, f := range r.Findings {
		for i, cell := range tableCells(f) {
			widths[i] = max(widths[i], len(cell))
		}
	}
	row := func(cells [3]string, message string) {
		for i, cell := range cells {
			fmt.Fprintf(&b, "%-*s  ", widths[i], cell)
		}
		b.WriteString(message)
		b.WriteByte('\n')
	}
	indent := strings.Repeat(" ", widths[0]+2+widths[1]+2+widths[2]+2)
	row(header, "MESSAGE")
	for _, f := range r.Findings {
		row(tableCells(f), f.Message)
		if f.Status == Pass {
			continue
		}
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "%sevidence: %s\n", indent, e)
		}
		if f.Fix != "" {
			fmt.Fprintf(&b, "%sfix: %s\n", indent, f.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func tableCells(f Finding) [3]string {
	obj := f.Object
	if obj == "" {
		obj = "-"
	}
	return [3]string{string(f.Status), f.Check, obj}
}

// WriteJSON writes r as indented JSON, fields in the order of Report and
// Finding, and an empty list rather than null when nothing was found.
func WriteJSON(w io.Writer, r Report) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return nil
}
