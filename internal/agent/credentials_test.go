package agent

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podid/podid/internal/tokens"
)

func TestClientSecretIsReadFromTheIdentitysSecret(t *testing.T) {
	kube := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "sp"},
		Data: map[string][]byte{"clientsecret": []byte("s3cret")}})
	get := clientSecretFrom(kube)
	cases := map[string]struct {
		id     tokens.Identity
		want   string
		wantIn string
	}{
		"the clientsecret key is the secret":  {id: tokens.Identity{Name: "apps/id", SecretNamespace: "apps", SecretName: "sp"}, want: "s3cret"},
		"a missing Secret is named":           {id: tokens.Identity{Name: "apps/id", SecretNamespace: "apps", SecretName: "nope"}, wantIn: "get Secret apps/nope"},
		"an identity without Secret is named": {id: tokens.Identity{Name: "apps/id"}, wantIn: "names no Secret"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := get(context.Background(), tc.id)
			if tc.wantIn != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Fatalf("error %v, want %q", err, tc.wantIn)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestServiceAccountTokenAsksForTheExchangeAudience(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authv1.TokenRequest)
		if a.GetSubresource() != "token" || len(tr.Spec.Audiences) != 1 || tr.Spec.Audiences[0] != tokens.FederatedAudience {
			t.Errorf("token request %v %+v", a.GetSubresource(), tr.Spec)
		}
		tr.Status.Token = "sa-jwt"
		return true, tr, nil
	})
	got, err := serviceAccountToken(kube, "kube-system", "podid-nmi")(context.Background())
	if err != nil || got != "sa-jwt" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestServiceAccountTokenIsReusedUntilHalfItsLifetime(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	fetches := 0
	c := &assertionCache{now: func() time.Time { return now }, lock: make(chan struct{}, 1),
		fetch: func(context.Context) (string, time.Time, error) {
			fetches++
			return "jwt-" + strconv.Itoa(fetches), now.Add(10 * time.Minute), nil
		}}
	cases := []struct {
		name  string
		at    time.Duration // since start
		want  string
		calls int
	}{
		{name: "the first exchange fetches a token", at: 0, want: "jwt-1", calls: 1},
		{name: "a later exchange within half the lifetime reuses it", at: 4*time.Minute + 59*time.Second, want: "jwt-1", calls: 1},
		{name: "at half the lifetime a new token is fetched", at: 5 * time.Minute, want: "jwt-2", calls: 2},
		{name: "the new token is reused in turn", at: 9 * time.Minute, want: "jwt-2", calls: 2},
	}
	for _, tc := range cases {
		now = start.Add(tc.at)
		got, err := c.get(context.Background())
		if err != nil || got != tc.want || fetches != tc.calls {
			t.Errorf("%s: got %q, %v after %d fetches; want %q after %d", tc.name, got, err, fetches, tc.want, tc.calls)
		}
	}
}

func TestConcurrentExchangesShareOneServiceAccountToken(t *testing.T) {
	var calls atomic.Int32
	kube := fake.NewClientset()
	kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		calls.Add(1)
		tr := a.(k8stesting.CreateAction).GetObject().(*authv1.TokenRequest)
		tr.Status.Token = "sa-jwt"
		return true, tr, nil
	})
	get := serviceAccountToken(kube, "kube-system", "podid-nmi")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := get(context.Background()); err != nil || got != "sa-jwt" {
				t.Errorf("got %q, %v", got, err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d TokenRequests for 20 concurrent exchanges, want 1", n)
	}
}

func TestWaitingForTheServiceAccountTokenEndsWithTheContext(t *testing.T) {
	c := &assertionCache{now: time.Now, lock: make(chan struct{}, 1)}
	c.lock <- struct{}{} // a renewal is in progress
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
}
