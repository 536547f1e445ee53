package podindex

import "sync"

// changes is a broadcast: each reader gets a channel that is closed at the
// next change.
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// current returns the channel the next change closes. Take it before
// reading the caches, so a change in between is not missed.
func (c *changes) current() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// notify wakes every reader.
func (c *changes) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
		c.ch = nil
	}
}
