package cloud

import (
	"context"
	"crypto/rsa"
	"errors"
	"math/big"
	"testing"
	"time"
)

func TestIssuerKeysCache(t *testing.T) {
	k1 := &rsa.PublicKey{N: big.NewInt(1), E: 65537}
	k2 := &rsa.PublicKey{N: big.NewInt(2), E: 65537}
	type step struct {
		after   time.Duration // since the start
		kid     string
		publish map[string]*rsa.PublicKey
		fail    bool
		// want
		found   bool
		fetches int // total so far
		err     bool
	}
	cases := map[string][]step{
		"keys are fetched once and reused within the TTL": {
			{kid: "a", publish: map[string]*rsa.PublicKey{"a": k1}, found: true, fetches: 1},
			{after: time.Minute, kid: "a", found: true, fetches: 1},
		},
		"keys older than the TTL are fetched again": {
			{kid: "a", publish: map[string]*rsa.PublicKey{"a": k1}, found: true, fetches: 1},
			{after: issuerKeyTTL + time.Second, kid: "a", found: true, fetches: 2},
		},
		"an unknown key id is looked up again after the refetch interval, so rotation is seen": {
			{kid: "a", publish: map[string]*rsa.PublicKey{"a": k1}, found: true, fetches: 1},
			{after: issuerRefetchAfter, kid: "b", publish: map[string]*rsa.PublicKey{"a": k1, "b": k2}, found: true, fetches: 2},
		},
		"unknown key ids within the refetch interval fetch nothing (negative cache)": {
			{kid: "a", publish: map[string]*rsa.PublicKey{"a": k1}, found: true, fetches: 1},
			{after: time.Second, kid: "x", found: false, fetches: 1},
			{after: 2 * time.Second, kid: "y", found: false, fetches: 1},
			{after: 3 * time.Second, kid: "a", found: true, fetches: 1},
			{after: time.Second + issuerRefetchAfter, kid: "z", found: false, fetches: 2},
			{after: 2*time.Second + issuerRefetchAfter, kid: "z", found: false, fetches: 2},
		},
		"a key the issuer does not publish is not found": {
			{kid: "x", publish: map[string]*rsa.PublicKey{"a": k1}, found: false, fetches: 1},
		},
		"an unreachable issuer is an error, remembered for the refetch interval": {
			{kid: "a", fail: true, err: true, fetches: 1},
			{after: time.Second, kid: "a", err: true, fetches: 1},
			{after: issuerRefetchAfter, kid: "a", publish: map[string]*rsa.PublicKey{"a": k1}, found: true, fetches: 2},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			var cache issuerKeys
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			published := map[string]*rsa.PublicKey{}
			fetches, fail := 0, false
			fetch := func(context.Context, string) (map[string]*rsa.PublicKey, error) {
				fetches++
				if fail {
					return nil, errors.New("unreachable")
				}
				return published, nil
			}
			for i, s := range steps {
				if s.publish != nil {
					published = s.publish
				}
				fail = s.fail
				now := func() time.Time { return start.Add(s.after) }
				key, found, err := cache.lookup(context.Background(), "https://issuer", s.kid, now, fetch)
				if (err != nil) != s.err || found != s.found || (found && key != published[s.kid]) || fetches != s.fetches {
					t.Fatalf("step %d: key %v found %v err %v after %d fetches; want found %v err %v after %d", i, key, found, err, fetches, s.found, s.err, s.fetches)
				}
			}
		})
	}
}
