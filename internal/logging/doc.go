// Package logging builds the one logger stack every podid binary uses:
// log/slog underneath, with logr on top for controller-runtime and klog
// (client-go), so that mic, nmi, the embedded cloud and podid up write the
// same format with the same keys.
//
// Options holds the two flags every binary takes, --log-format (text or
// json) and -v/--v (verbosity). A logr V(n) line is written at slog level
// -n, so -v=1 shows mic's V(1) lines ("created assignment") and slog's
// Debug level (-4) shows from -v=4. An error is always logged under the
// key "error"; logr's "err" is renamed.
package logging
