// Package doctor diagnoses pod identity from evidence. It gathers what a
// cluster (and, with access, the cloud) holds once, into Facts, then runs
// independent named checks over those facts in parallel. A check is a pure
// function: it reads Facts and returns Findings, each naming the object,
// the evidence it saw and the one command that fixes it. The gathering
// (gather.go) is the only I/O, and it only reads.
package doctor
