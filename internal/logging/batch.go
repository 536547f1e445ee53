package logging

import (
	"io"
	"sync"
)

// BatchWriter writes lines to an underlying writer, several in one call
// when several arrive at once. The first writer to find nobody writing
// writes its line itself, at once, and then whatever others appended
// meanwhile; those others return as soon as their line is appended. An
// idle daemon's line therefore goes out immediately (no flush interval,
// nothing lost at exit, no goroutine), and under load one system call
// carries the lines of many requests: the node agent writes a line per
// token request, and a write to a pipe costs about as much as formatting
// the line.
type BatchWriter struct {
	w io.Writer

	mu      sync.Mutex
	drained *sync.Cond // signalled when a writing turn ends
	buf     []byte     // appended while someone writes, not yet written
	spare   []byte     // the previous batch's buffer, for reuse
	writing bool
}

// maxBatchBuffer bounds what waits in memory: past it a writer waits for
// the current write to finish, so a stuck output slows the daemon rather
// than growing it.
const maxBatchBuffer = 1 << 20

// NewBatchWriter returns a BatchWriter writing to w.
func NewBatchWriter(w io.Writer) *BatchWriter {
	b := &BatchWriter{w: w}
	b.drained = sync.NewCond(&b.mu)
	return b
}

// Write writes p, or queues it behind the write in progress. A queued
// line's error cannot reach its writer; the log has nowhere else to report
// it anyway.
func (b *BatchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	for b.writing && len(b.buf) > 0 && len(b.buf)+len(p) > maxBatchBuffer {
		b.drained.Wait()
	}
	if b.writing {
		b.buf = append(b.buf, p...)
		b.mu.Unlock()
		return len(p), nil
	}
	b.writing = true
	b.mu.Unlock()

	n, err := b.w.Write(p)
	b.mu.Lock()
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
	b.mu.Unlock()
	return n, err
}

// Flush returns once every line written before it has been handed to the
// underlying writer.
func (b *BatchWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.writing {
		b.drained.Wait()
	}
}
