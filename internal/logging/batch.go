package logging

import (
	"io"
	"sync"
	"time"
)

// BatchWriter writes lines to an underlying writer, several in one call.
//
// Without linger, the first writer to find nobody writing writes its line
// itself, at once, and then whatever others appended meanwhile; those
// others return as soon as their line is appended. Nothing waits while the
// daemon is idle, and lines that arrive together share a system call.
//
// With linger, a line that finds nobody writing waits up to linger for
// others, or until lingerBatch bytes have gathered, and they go out in one
// call. The node agent writes a line per token request; under load a
// write per line cost as much as formatting the line, and with linger one
// write carries the lines of hundreds of requests. A Warn or Error record
// is flushed at once (the handler calls Flush), and so is everything at a
// clean exit (the daemon calls Flush); a crash loses at most linger's worth
// of Info lines.
type BatchWriter struct {
	w      io.Writer
	linger time.Duration

	mu      sync.Mutex
	drained *sync.Cond // signalled when a writing turn ends
	buf     []byte     // not yet written
	spare   []byte     // the previous batch's buffer, for reuse
	writing bool
	timer   *time.Timer // pending lingering flush
}

// RequestLogLinger is the linger of a daemon that logs a line per request
// (the node agent): long enough to gather a few hundred lines under load,
// short enough that a line shows up in `kubectl logs` before anyone looks.
const RequestLogLinger = 50 * time.Millisecond

const (
	// maxBatchBuffer bounds what waits in memory: past it a writer waits
	// for the current write to finish, so a stuck output slows the daemon
	// rather than growing it.
	maxBatchBuffer = 1 << 20
	// lingerBatch is how much a lingering writer gathers before writing
	// without waiting for the timer.
	lingerBatch = 64 << 10
)

// NewBatchWriter returns a BatchWriter writing to w; linger 0 writes a
// line at once when nobody else is writing.
func NewBatchWriter(w io.Writer, linger time.Duration) *BatchWriter {
	b := &BatchWriter{w: w, linger: linger}
	b.drained = sync.NewCond(&b.mu)
	return b
}

// Write writes p, or queues it. A queued line's error cannot reach its
// writer; the log has nowhere else to report it anyway.
func (b *BatchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	for len(b.buf) > 0 && len(b.buf)+len(p) > maxBatchBuffer && b.writing {
		b.drained.Wait()
	}
	b.buf = append(b.buf, p...)
	switch {
	case b.writing: // the writer in its turn takes it
	case b.linger > 0 && len(b.buf) < lingerBatch:
		if b.timer == nil {
			b.timer = time.AfterFunc(b.linger, b.Flush)
		}
	default:
		b.writeTurn()
	}
	b.mu.Unlock()
	return len(p), nil
}

// writeTurn writes out buf, and whatever is appended meanwhile, with mu
// held on entry and on return (released while writing).
func (b *BatchWriter) writeTurn() {
	b.writing = true
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	for len(b.buf) > 0 {
		batch := b.buf
		b.buf = b.spare[:0]
		b.mu.Unlock()
		_, _ = b.w.Write(batch)
		b.mu.Lock()
		b.spare = batch[:0]
		if cap(b.spare) > maxBatchBuffer {
			b.spare = nil
		}
		b.drained.Broadcast()
	}
	b.writing = false
	b.drained.Broadcast()
}

// Flush returns once every line written before it has been handed to the
// underlying writer.
func (b *BatchWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.writing && len(b.buf) > 0 {
		b.writeTurn()
	}
	for b.writing {
		b.drained.Wait()
	}
}
