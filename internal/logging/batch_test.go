package logging

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink records each write it gets; slow makes every write take that long,
// as a pipe to a busy reader does.
type sink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	slow   time.Duration
	gate   chan struct{} // when set, each write waits for a value
}

func (s *sink) Write(p []byte) (int, error) {
	if s.gate != nil {
		<-s.gate
	}
	time.Sleep(s.slow)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func (s *sink) snapshot() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String(), s.writes
}

// Lines written by many goroutines at once all arrive, whole, each
// goroutine's in its order, in far fewer writes than lines when the output
// is slow.
func TestBatchWriterKeepsEveryLineAndBatchesUnderLoad(t *testing.T) {
	out := &sink{slow: time.Millisecond}
	b := NewBatchWriter(out, 0)
	const writers, lines = 32, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(b, "writer=%d line=%d\n", g, i)
			}
		}()
	}
	wg.Wait()
	b.Flush()
	got, writes := out.snapshot()
	next := make([]int, writers)
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(line, "writer=%d line=%d", &g, &i); err != nil || g >= writers || i != next[g] {
			t.Fatalf("line %d %q: broken or out of order (want writer %d's line %d)", n, line, g, next[g%writers])
		}
		next[g]++
		n++
	}
	if n != writers*lines {
		t.Fatalf("%d lines arrived, want %d", n, writers*lines)
	}
	if writes > n/10 {
		t.Errorf("%d lines took %d writes to a slow output, want batches of ten or more", n, writes)
	}
	t.Logf("%d lines in %d writes", n, writes)
}

// An idle daemon's line is out when Write returns.
func TestBatchWriterWritesAnIdleLineAtOnce(t *testing.T) {
	out := &sink{}
	b := NewBatchWriter(out, 0)
	_, _ = b.Write([]byte("started\n"))
	if got, writes := out.snapshot(); got != "started\n" || writes != 1 {
		t.Fatalf("after Write the output holds %q in %d writes", got, writes)
	}
}

// Flush waits for lines queued behind a write in progress.
func TestBatchWriterFlushWaitsForQueuedLines(t *testing.T) {
	out := &sink{gate: make(chan struct{})}
	b := NewBatchWriter(out, 0)
	go func() { _, _ = b.Write([]byte("one\n")) }() // blocks in the output
	waitWriting(t, b)
	_, _ = b.Write([]byte("two\n")) // queued: returns at once
	flushed := make(chan struct{})
	go func() { b.Flush(); close(flushed) }()
	select {
	case <-flushed:
		t.Fatal("Flush returned while the output was stuck")
	case <-time.After(50 * time.Millisecond):
	}
	close(out.gate)
	<-flushed
	if got, _ := out.snapshot(); got != "one\ntwo\n" {
		t.Fatalf("after Flush the output holds %q", got)
	}
}

func waitWriting(t *testing.T, b *BatchWriter) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		w := b.writing
		b.mu.Unlock()
		if w {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no write started")
		}
	}
}

// A stuck output holds writers back once the queue is full, instead of
// letting the daemon's memory grow without bound.
func TestBatchWriterBoundsItsBuffer(t *testing.T) {
	out := &sink{gate: make(chan struct{})}
	b := NewBatchWriter(out, 0)
	line := bytes.Repeat([]byte("x"), 64<<10)
	go func() { _, _ = b.Write(line) }() // the writer, stuck in the output
	waitWriting(t, b)
	const others = 3 * maxBatchBuffer / (64 << 10)
	returned := make(chan struct{}, others)
	for range others {
		go func() { _, _ = b.Write(line); returned <- struct{}{} }()
	}
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	held := len(b.buf)
	b.mu.Unlock()
	if held > maxBatchBuffer {
		t.Fatalf("%d bytes queued behind a stuck output, want at most %d", held, maxBatchBuffer)
	}
	if len(returned) >= others {
		t.Fatal("every write returned while the output was stuck")
	}
	close(out.gate) // unstick: every write now passes
	for range others {
		<-returned
	}
	b.Flush()
	if got, _ := out.snapshot(); len(got) != (others+1)*len(line) {
		t.Fatalf("%d bytes arrived, want %d", len(got), (others+1)*len(line))
	}
}

// With linger, lines gather for that long (or up to lingerBatch) and go
// out in one write; Flush, and a Warn record through the logger, do not
// wait for the timer.
func TestBatchWriterLingers(t *testing.T) {
	out := &sink{}
	b := NewBatchWriter(out, time.Hour)
	for i := range 100 {
		fmt.Fprintf(b, "line %d\n", i)
	}
	if got, writes := out.snapshot(); got != "" || writes != 0 {
		t.Fatalf("lines were written before the linger ended: %d writes", writes)
	}
	b.Flush()
	if got, writes := out.snapshot(); writes != 1 || strings.Count(got, "\n") != 100 {
		t.Fatalf("Flush wrote %d lines in %d writes, want 100 in 1", strings.Count(got, "\n"), writes)
	}

	log := NewOptions(FormatJSON).New(b)
	log.Info("gathered")
	log.Warn("something to see now")
	if got, _ := out.snapshot(); !strings.Contains(got, "gathered") || !strings.Contains(got, "something to see now") {
		t.Fatalf("a Warn record waited for the linger:\n%s", got)
	}

	// Enough bytes go out without the timer.
	line := strings.Repeat("x", 1023) + "\n"
	_, writes0 := out.snapshot()
	for range lingerBatch / len(line) {
		_, _ = b.Write([]byte(line))
	}
	if _, writes := out.snapshot(); writes != writes0+1 {
		t.Fatalf("%d writes after lingerBatch bytes, want 1", writes-writes0)
	}

	short := NewBatchWriter(out, 20*time.Millisecond)
	_, _ = short.Write([]byte("late\n"))
	deadline := time.Now().Add(5 * time.Second)
	for got, _ := out.snapshot(); !strings.HasSuffix(got, "late\n"); got, _ = out.snapshot() {
		if time.Now().After(deadline) {
			t.Fatal("a lingering line never went out")
		}
		time.Sleep(time.Millisecond)
	}
}
