package nodelock

import "fmt"

// HeldError says another process holds the node lock.
type HeldError struct {
	// Path is the lock file.
	Path string
	// Holder is who holds it, as its file says.
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("node lock %s is held by %s", e.Path, e.Holder)
}
