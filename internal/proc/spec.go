package proc

// Spec returns what the child was started with, so a caller can start the
// same program again (same flags, same log file) once it has stopped.
func (p *Process) Spec() Spec {
	s := p.spec
	s.Args = append([]string(nil), p.spec.Args...)
	s.Env = append([]string(nil), p.spec.Env...)
	return s
}
