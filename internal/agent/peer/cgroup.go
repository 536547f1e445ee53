package peer

import (
	"regexp"
	"strings"
)

// podUIDPattern finds a pod UID in a cgroup path, in both drivers'
// spellings: cgroupfs (/kubepods/burstable/pod1234-…/…) and systemd
// (kubepods-burstable-pod1234_….slice).
var podUIDPattern = regexp.MustCompile(`kubepods.*[/-]pod([0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12})`)

// PodUIDFromCgroup returns the pod UID in the contents of /proc/<pid>/cgroup,
// or "" when the process runs in no pod (a node process).
func PodUIDFromCgroup(cgroup string) string {
	for _, line := range strings.Split(cgroup, "\n") {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if m := podUIDPattern.FindStringSubmatch(parts[2]); m != nil {
			return strings.ReplaceAll(strings.ToLower(m[1]), "_", "-")
		}
	}
	return ""
}
