package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud/cloudtest"
	"github.com/podid/podid/internal/tokens"
)

// recordedEvent is one event given to eventLog.
type recordedEvent struct {
	ref                  *corev1.ObjectReference
	eventtype, reason, m string
}

// eventLog is an eventRecorder that keeps what it is given.
type eventLog struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (l *eventLog) Event(obj runtime.Object, eventtype, reason, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ref, _ := obj.(*corev1.ObjectReference)
	l.events = append(l.events, recordedEvent{ref: ref, eventtype: eventtype, reason: reason, m: message})
}

func TestClientSecretIsReadFromTheIdentitysSecret(t *testing.T) {
	secret := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	kube := fake.NewClientset(
		secret("sp", map[string]string{"clientsecret": "s3cret"}),
		secret("seed", map[string]string{"password": "pa55"}),
		secret("both", map[string]string{"password": "pa55", "clientsecret": "s3cret", "tenant": "t"}),
		secret("unclear", map[string]string{"appid": "a", "value": "v4lue"}),
		secret("blank", map[string]string{"password": ""}),
		secret("none", nil),
	)
	id := func(secretName string) tokens.Identity {
		return tokens.Identity{Name: "apps/id", SecretNamespace: "apps", SecretName: secretName}
	}
	cases := map[string]struct {
		id        tokens.Identity
		want      string
		wantIn    string // error text, when an error is wanted
		wantEvent string // text of the Warning event, when one is wanted
	}{
		"the clientsecret key is the secret":                 {id: id("sp"), want: "s3cret"},
		"a password key alone is the secret":                 {id: id("seed"), want: "pa55"},
		"clientsecret is preferred among several keys":       {id: id("both"), want: "s3cret"},
		"a missing Secret is named":                          {id: id("nope"), wantIn: "get Secret apps/nope"},
		"an identity without Secret is named":                {id: tokens.Identity{Name: "apps/id"}, wantIn: "names no Secret"},
		"a Secret with unclear keys is refused and reported": {id: id("unclear"), wantIn: "has keys appid, value", wantEvent: "has keys appid, value"},
		"an empty value under the chosen key is reported":    {id: id("blank"), wantIn: `empty value under key "password"`, wantEvent: "empty value"},
		"a Secret without values is reported with the fix":   {id: id("none"), wantIn: "holds no value", wantEvent: "--from-literal=clientsecret="},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			events := &eventLog{}
			r := &secretReader{kube: kube, events: events,
				identityUID: func(_ context.Context, ns, name string) (types.UID, error) {
					return types.UID("uid-of-" + ns + "-" + name), nil
				}}
			got, err := r.clientSecret(context.Background(), tc.id)
			if tc.wantIn != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Fatalf("got %q, %v; want error with %q", got, err, tc.wantIn)
				}
			} else if err != nil || got != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
			if tc.wantEvent == "" {
				if len(events.events) != 0 {
					t.Fatalf("events %+v, want none", events.events)
				}
				return
			}
			if len(events.events) != 1 {
				t.Fatalf("events %+v, want one", events.events)
			}
			ev := events.events[0]
			wantRef := corev1.ObjectReference{APIVersion: "aadpodidentity.k8s.io/v1", Kind: "AzureIdentity", Namespace: "apps", Name: "id", UID: "uid-of-apps-id"}
			if ev.ref == nil || *ev.ref != wantRef {
				t.Fatalf("event on %+v, want %+v", ev.ref, wantRef)
			}
			if ev.eventtype != corev1.EventTypeWarning || ev.reason != ReasonClientSecretUnclear || !strings.Contains(ev.m, tc.wantEvent) {
				t.Fatalf("event %s %s %q, want Warning %s with %q", ev.eventtype, ev.reason, ev.m, ReasonClientSecretUnclear, tc.wantEvent)
			}
			for _, v := range []string{"s3cret", "pa55", "v4lue"} {
				if strings.Contains(ev.m, v) || strings.Contains(err.Error(), v) {
					t.Fatalf("a secret value shows in %q / %q", ev.m, err)
				}
			}
		})
	}
}

func TestCertificatesAreReadFromTheCertificateKeyOnly(t *testing.T) {
	kube := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "cert"},
		Data: map[string][]byte{"tls.crt": []byte("x")}})
	events := &eventLog{}
	r := &secretReader{kube: kube, events: events}
	_, _, err := r.certificate(context.Background(), tokens.Identity{Name: "apps/id", SecretNamespace: "apps", SecretName: "cert"})
	if err == nil || !strings.Contains(err.Error(), `no "certificate" key`) {
		t.Fatalf("error %v, want the certificate key named", err)
	}
}

// seed002Path is seed 002's manifests as published, kept for the
// integration tests.
const seed002Path = "../../test/integration/testdata/seed002.yaml"

// seed002Identity returns the AzureIdentity called name from seed 002's
// manifests, read as the API server stores it once the controller has
// folded its PascalCase fields into the canonical ones, in namespace
// default, where kubectl apply puts it.
func seed002Identity(t *testing.T, name string) *podidv1.AzureIdentity {
	t.Helper()
	b, err := os.ReadFile(seed002Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("seed 002: %v", err)
		}
		var obj map[string]any
		if err := json.Unmarshal(j, &obj); err != nil {
			t.Fatalf("seed 002: %v", err)
		}
		meta, _ := obj["metadata"].(map[string]any)
		if obj["kind"] != podidv1.KindAzureIdentity || meta["name"] != name {
			continue
		}
		if res := podidv1.NormalizeObject(podidv1.KindAzureIdentity, obj); len(res.Problems()) > 0 {
			t.Fatalf("seed 002 %s: %v", name, res.Problems())
		}
		j, _ = json.Marshal(obj)
		var ai podidv1.AzureIdentity
		if err := json.Unmarshal(j, &ai); err != nil {
			t.Fatalf("seed 002 %s: %v", name, err)
		}
		ai.Namespace = "default"
		return &ai
	}
	t.Fatalf("seed 002 has no AzureIdentity %s", name)
	return nil
}

// TestSeed002ServicePrincipalGetsAToken follows seed 002 to the letter: the
// client secret stored with kubectl create secret generic NAME
// --from-literal=password=SECRET, the type 1 AzureIdentity as published,
// and the agent's client-secret source gets a token of the application from
// the embedded cloud.
func TestSeed002ServicePrincipalGetsAToken(t *testing.T) {
	ai := seed002Identity(t, "spaccess")
	if ai.Spec.ClientPassword == nil {
		t.Fatal("seed 002 spaccess lost its ClientPassword")
	}
	const spSecret = "seed-002-sp-secret"
	e := cloudtest.StartYAML(t, `
tenants:
  - id: `+ai.Spec.TenantID+`
    name: seed002
    applications:
      - name: spaccess
        appId: `+ai.Spec.ClientID+`
        secrets: [{value: `+spSecret+`}]
`)
	app, ok := e.Cloud.Application(ai.Spec.ClientID)
	if !ok {
		t.Fatal("the application of seed 002 is missing from the cloud")
	}
	ref := ai.Spec.ClientPassword
	// What kubectl create secret generic NAME --from-literal=password=SECRET creates.
	kube := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte(spSecret)}})
	events := &eventLog{}
	src, err := tokens.NewClientSecret(tokens.AADOptions{AuthorityHost: e.AuthorityHost, Client: e.HTTPClient},
		(&secretReader{kube: kube, events: events}).clientSecret)
	if err != nil {
		t.Fatal(err)
	}
	// The identity as the agent reads it from the assignment (podindex).
	id := tokens.Identity{Name: ai.Namespace + "/" + ai.Name, Type: ai.Spec.Type, ClientID: ai.Spec.ClientID,
		TenantID: ai.Spec.TenantID, SecretNamespace: ref.Namespace, SecretName: ref.Name}
	tok, err := src.Token(context.Background(), tokens.Request{Identity: id, Resource: "https://vault.azure.net"})
	if err != nil {
		t.Fatalf("get token: %v", err)
	}
	claims := e.VerifyToken(t, ai.Spec.TenantID, tok.AccessToken)
	if got, _ := claims["appid"].(string); !strings.EqualFold(got, ai.Spec.ClientID) {
		t.Errorf("appid %q, want %q", got, ai.Spec.ClientID)
	}
	if oid, err := tokens.ObjectIDOf(tok.AccessToken); err != nil || !strings.EqualFold(oid, app.ObjectID) {
		t.Errorf("object ID %q, %v; want the application's %q", oid, err, app.ObjectID)
	}
	if len(events.events) != 0 {
		t.Errorf("events %+v, want none", events.events)
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
