package integration

import (
	"context"
	"testing"
	"time"
)

// wantEvent waits for an event on the named object whose reason matches and
// whose message contains text.
func wantEvent(ctx context.Context, t *testing.T, ns, name, reason, text string) {
	t.Helper()
	if err := env.WaitForEvent(ctx, ns, name, reason, text, 20*time.Second); err != nil {
		t.Fatal(err)
	}
}
