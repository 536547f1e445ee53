package nodelock

import (
	"fmt"
	"strconv"
	"strings"
)

// Holder is what the agent holding the lock writes into the lock file, one
// "key=value" line each, so that `cat` shows it too.
type Holder struct {
	// PID is the holder's process ID as its own PID namespace numbers it;
	// PIDNamespace ("pid:[4026531836]") says which namespace that is, so
	// a reader knows whether /proc/PID is the holder.
	PID          int
	PIDNamespace string
	// Address is where the holder serves tokens, the redirect's target.
	Address string
	// Pod is the holder's pod as namespace/name and PodUID its UID; ""
	// when it runs in no pod or does not know.
	Pod    string
	PodUID string
}

// String names the holder in one phrase: "PID 4242, serving
// 10.240.0.4:2579, pod kube-system/podid-nmi-x7k2p, UID …".
func (h Holder) String() string {
	parts := []string{"PID " + strconv.Itoa(h.PID)}
	if h.PID == 0 {
		parts[0] = "PID unknown"
	}
	if h.Address != "" {
		parts = append(parts, "serving "+h.Address)
	}
	switch {
	case h.Pod != "" && h.PodUID != "":
		parts = append(parts, "pod "+h.Pod, "UID "+h.PodUID)
	case h.Pod != "":
		parts = append(parts, "pod "+h.Pod)
	case h.PodUID != "":
		parts = append(parts, "pod UID "+h.PodUID)
	}
	return strings.Join(parts, ", ")
}

func (h Holder) marshal() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "pid=%d\npidns=%s\naddress=%s\npod=%s\npoduid=%s\n", h.PID, h.PIDNamespace, h.Address, h.Pod, h.PodUID)
	return []byte(b.String())
}

// parseHolder reads what marshal wrote; unknown or broken lines are
// skipped (a holder that has locked but not yet written leaves it empty).
func parseHolder(b []byte) Holder {
	var h Holder
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "pidns":
			h.PIDNamespace = v
		case "address":
			h.Address = v
		case "pod":
			h.Pod = v
		case "poduid":
			h.PodUID = v
		}
	}
	return h
}
