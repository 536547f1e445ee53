package broadcast

import "testing"

func TestNotifyClosesTheChannelTakenBefore(t *testing.T) {
	var b Broadcast
	ch := b.Current()
	select {
	case <-ch:
		t.Fatal("closed before any change")
	default:
	}
	b.Notify()
	<-ch
	if b.Current() == ch {
		t.Fatal("a new reader got the closed channel")
	}
}
