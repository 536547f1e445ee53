package runstate

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// stat returns the fields of /proc/PID/stat after the command name.
func stat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return strings.Fields(s[i+1:]), nil
}

// startTicks is field 22 of /proc/PID/stat: the start time since boot.
func startTicks(pid int) (uint64, error) {
	f, err := stat(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f))
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// zombie reports a process that exited but was not reaped yet.
func zombie(pid int) bool {
	f, err := stat(pid)
	return err == nil && len(f) > 0 && f[0] == "Z"
}
