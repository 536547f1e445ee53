// Package broadcast wakes every waiter at the next change: each reader takes
// a channel that the next Notify closes. The node agent's caches use it so a
// request waiting for its pod or assignment wakes at once, without polling.
package broadcast

import "sync"

// Broadcast is a change signal. The zero value is ready to use.
type Broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// Current returns the channel the next Notify closes. Take it before
// reading the state it guards, so a change in between is not missed.
func (b *Broadcast) Current() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Notify wakes every reader of Current.
func (b *Broadcast) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
