package doctor

// Checks returns every check, in a stable order. Each capability adds
// its checks to one of the lists it draws from.
func Checks() []Check {
	var out []Check
	out = append(out, clusterChecks()...)
	out = append(out, objectChecks()...)
	out = append(out, cloudChecks()...)
	out = append(out, wiChecks()...)
	out = append(out, pullChecks()...)
	out = append(out, signInChecks()...)
	return out
}
