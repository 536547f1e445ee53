package doctor

// Status is a finding's verdict.
type Status string

// The verdicts, from best to worst. A skip says why a check could not
// decide (no cloud access, nothing in scope).
const (
	Pass Status = "pass"
	Skip Status = "skip"
	Warn Status = "warn"
	Fail Status = "fail"
)

// severity orders statuses for sorting and the exit code.
func (s Status) severity() int {
	switch s {
	case Fail:
		return 3
	case Warn:
		return 2
	case Skip:
		return 1
	}
	return 0
}

// Finding is one check's verdict on one object.
type Finding struct {
	// Check is the check's kebab-case name.
	Check string `json:"check"`
	// Status is the verdict.
	Status Status `json:"status"`
	// Object names what the finding is about, "Kind namespace/name", or
	// is empty for the cluster as a whole.
	Object string `json:"object,omitempty"`
	// Message says what is wrong (or right) in one sentence.
	Message string `json:"message"`
	// Evidence is what the check saw: events, conditions, cloud answers,
	// counts.
	Evidence []string `json:"evidence,omitempty"`
	// Fix is the one command that fixes it; empty on pass.
	Fix string `json:"fix,omitempty"`
}

// Report is every finding of one run.
type Report struct {
	// Scope is what was examined, in words.
	Scope    string    `json:"scope"`
	Findings []Finding `json:"findings"`
}

// Failed reports whether any finding failed: `podid doctor` then exits
// non-zero.
func (r Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Status == Fail {
			return true
		}
	}
	return false
}

// Counts is how many findings have each status.
func (r Report) Counts() map[Status]int {
	out := map[Status]int{}
	for _, f := range r.Findings {
		out[f.Status]++
	}
	return out
}
