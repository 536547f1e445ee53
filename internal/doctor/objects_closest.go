package doctor

import (
	"fmt"
	"sort"
	"strings"
)

// nearName is a candidate name close to one that matched nothing, and why
// it is close.
type nearName struct {
	Name string
	// Why says how the two differ, for the evidence.
	Why string
	// distance orders candidates: 0 for case or spacing, else edits.
	distance int
}

// closest returns the candidates that are probably what was meant by want:
// equal but for case or surrounding spaces (the usual copy-paste slips), or
// a few edits away. The closest come first; exact matches are not
// candidates, since they would have matched.
func closest(want string, candidates []string) []nearName {
	seen := map[string]bool{}
	var out []nearName
	for _, c := range candidates {
		if c == want || seen[c] {
			continue
		}
		seen[c] = true
		switch d := editDistance(want, c); {
		case strings.TrimSpace(c) == strings.TrimSpace(want):
			out = append(out, nearName{Name: c, Why: "differs only in surrounding spaces"})
		case strings.EqualFold(c, want):
			out = append(out, nearName{Name: c, Why: "differs only in case"})
		case strings.EqualFold(strings.TrimSpace(c), strings.TrimSpace(want)):
			out = append(out, nearName{Name: c, Why: "differs only in case and surrounding spaces"})
		case d <= maxEdits(want):
			out = append(out, nearName{Name: c, Why: fmt.Sprintf("%d %s away", d, objPlural(d, "edit", "edits")), distance: d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].distance != out[j].distance {
			return out[i].distance < out[j].distance
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// maxEdits is how many edits still make a name a likely typo of want: two,
// and fewer for short names, where two edits make another word.
func maxEdits(want string) int {
	switch n := len([]rune(want)); {
	case n <= 1:
		return 0
	case n <= 3:
		return 1
	}
	return 2
}

// editDistance is the Levenshtein distance between a and b, by runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
