package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/podid/podid/internal/tokens"
)

func TestRefusalsBecomeOneEventPerIdentityAndCode(t *testing.T) {
	expired := &tokens.Error{Status: 401, Code: "invalid_client", Description: "AADSTS7000222: The provided client secret keys are expired."}
	var fail error = expired
	source := tokens.TokenSourceFunc(func(context.Context, tokens.Request) (tokens.Token, error) { return tokens.Token{}, fail })
	var events []string
	now := time.Unix(1000, 0)
	s := explainRefusals(source, func(_ context.Context, id tokens.Identity, reason, msg string) {
		events = append(events, id.Name+" "+reason+" "+msg)
	}, func() time.Time { return now })
	req := tokens.Request{Identity: tokens.Identity{Name: "apps/sp"}, Resource: "https://vault.azure.net"}
	for i := 0; i < 3; i++ {
		if _, err := s.Token(context.Background(), req); err != expired {
			t.Fatalf("the refusal must reach the caller unchanged, got %v", err)
		}
	}
	if len(events) != 1 || !strings.Contains(events[0], "apps/sp TokenRequestRefused") || !strings.Contains(events[0], "(AADSTS7000222): the service principal's client secret has expired. Fix: create a new secret") {
		t.Fatalf("three refusals in a row: want one event with cause and fix, got %q", events)
	}
	now = now.Add(refusalEventEvery)
	_, _ = s.Token(context.Background(), req)
	if len(events) != 2 {
		t.Fatalf("after %s the refusal is recorded again; got %d events", refusalEventEvery, len(events))
	}
	fail = &tokens.Error{Status: 503, Code: "temporarily_unavailable"}
	now = now.Add(refusalEventEvery)
	_, _ = s.Token(context.Background(), req)
	if len(events) != 2 {
		t.Fatalf("a transient failure is no refusal; got %q", events)
	}
}
