package agent

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	v1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/tokens"
)

// Reasons of the events the agent records on AzureIdentities.
const (
	// ReasonClientSecretUnclear: the identity's Secret does not tell which
	// value is the client secret (several keys, none of them preferred), or
	// holds none. Pods get no token for the identity until it is fixed.
	ReasonClientSecretUnclear = "ClientSecretUnclear"
)

// eventComponent is the source of the agent's events.
const eventComponent = "podid-nmi"

// serviceAccountTokenSeconds is the lifetime asked of service-account
// tokens for the federated exchange; each is reused for half of it.
const serviceAccountTokenSeconds = 600

// eventRecorder is the part of record.EventRecorder the agent uses.
type eventRecorder interface {
	Event(object runtime.Object, eventtype, reason, message string)
}

// secretReader reads the Secrets named in spec.clientPassword, and tells the
// AzureIdentity's owner, with a Warning event on it, when a Secret cannot be
// read as intended. Secret values are never logged or put in messages.
type secretReader struct {
	kube kubernetes.Interface
	// events records the Warning events; nil records none.
	events eventRecorder
	// identityUID finds an AzureIdentity's UID, which kubectl describe
	// needs to show its events; nil, or an error, leaves the UID out.
	identityUID func(ctx context.Context, namespace, name string) (types.UID, error)
}

// newSecretReader reads through kube and records events through it, with an
// event broadcaster started at the first event.
func newSecretReader(kube kubernetes.Interface) *secretReader {
	return &secretReader{kube: kube, events: &lazyRecorder{kube: kube}, identityUID: identityUIDFrom(kube)}
}

// clientSecretFrom reads a service principal's secret from its Secret.
func clientSecretFrom(kube kubernetes.Interface) tokens.SecretFunc {
	return newSecretReader(kube).clientSecret
}

// certificateFrom reads a PEM certificate and key from the identity's
// Secret. TODO: PKCS#12 with a "password" key, as aad-pod-identity accepted.
func certificateFrom(kube kubernetes.Interface) tokens.CertificateFunc {
	return newSecretReader(kube).certificate
}

// secret gets the identity's Secret.
func (r *secretReader) secret(ctx context.Context, id tokens.Identity) (*corev1.Secret, error) {
	if id.SecretName == "" {
		return nil, errors.New("identity " + id.Name + " names no Secret in spec.clientPassword")
	}
	s, err := r.kube.CoreV1().Secrets(id.SecretNamespace).Get(ctx, id.SecretName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get Secret %s/%s: %w", id.SecretNamespace, id.SecretName, err)
	}
	return s, nil
}

// clientSecret reads a type 1 identity's client secret, from the key
// v1.ClientSecretKey chooses.
func (r *secretReader) clientSecret(ctx context.Context, id tokens.Identity) (string, error) {
	s, err := r.secret(ctx, id)
	if err != nil {
		return "", err
	}
	keys := make([]string, 0, len(s.Data))
	for k := range s.Data {
		keys = append(keys, k)
	}
	key, err := v1.ClientSecretKey(id.SecretNamespace+"/"+id.SecretName, keys)
	if err != nil {
		r.warn(ctx, id, ReasonClientSecretUnclear, err.Error()+"; until then pods get no token for this identity")
		return "", err
	}
	v := s.Data[key]
	if len(v) == 0 {
		err := fmt.Errorf("secret %s/%s has an empty value under key %q; put the client secret there", id.SecretNamespace, id.SecretName, key)
		r.warn(ctx, id, ReasonClientSecretUnclear, err.Error()+"; until then pods get no token for this identity")
		return "", err
	}
	return string(v), nil
}

// certificate reads a type 2 identity's PEM certificate and key.
func (r *secretReader) certificate(ctx context.Context, id tokens.Identity) ([]*x509.Certificate, *rsa.PrivateKey, error) {
	s, err := r.secret(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	b := s.Data[v1.SecretKeyCertificate]
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("secret %s/%s has no %q key", id.SecretNamespace, id.SecretName, v1.SecretKeyCertificate)
	}
	return tokens.ParseCertificatePEM(b)
}

// warn records a Warning event on the identity's AzureIdentity.
func (r *secretReader) warn(ctx context.Context, id tokens.Identity, reason, message string) {
	if r.events == nil {
		return
	}
	if ns, account, wi := id.WorkloadAccount(); wi {
		r.events.Event(&corev1.ObjectReference{APIVersion: "v1", Kind: "ServiceAccount", Namespace: ns, Name: account}, corev1.EventTypeWarning, reason, message)
		return
	}
	ns, name, ok := strings.Cut(id.Name, "/")
	if !ok {
		return
	}
	ref := &corev1.ObjectReference{APIVersion: v1.GroupVersion.String(), Kind: v1.KindAzureIdentity, Namespace: ns, Name: name}
	if r.identityUID != nil {
		if uid, err := r.identityUID(ctx, ns, name); err == nil {
			ref.UID = uid
		}
	}
	r.events.Event(ref, corev1.EventTypeWarning, reason, message)
}

// identityUIDFrom looks AzureIdentities up through kube's REST client, or
// returns nil when kube has none (fake clientsets).
func identityUIDFrom(kube kubernetes.Interface) func(ctx context.Context, namespace, name string) (types.UID, error) {
	rc, ok := kube.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil {
		return nil
	}
	return func(ctx context.Context, namespace, name string) (types.UID, error) {
		b, err := rc.Get().AbsPath("/apis", v1.GroupVersion.Group, v1.GroupVersion.Version,
			"namespaces", namespace, "azureidentities", name).DoRaw(ctx)
		if err != nil {
			return "", fmt.Errorf("get AzureIdentity %s/%s: %w", namespace, name, err)
		}
		var m metav1.PartialObjectMetadata
		if err := json.Unmarshal(b, &m); err != nil {
			return "", fmt.Errorf("decode AzureIdentity %s/%s: %w", namespace, name, err)
		}
		return m.UID, nil
	}
}

// lazyRecorder starts an event broadcaster at its first event, so an agent
// whose Secrets are all in order never runs one.
type lazyRecorder struct {
	kube kubernetes.Interface
	once sync.Once
	rec  record.EventRecorder
}

func (l *lazyRecorder) Event(object runtime.Object, eventtype, reason, message string) {
	l.once.Do(func() {
		b := record.NewBroadcaster()
		b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: l.kube.CoreV1().Events("")})
		l.rec = b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: eventComponent})
	})
	l.rec.Event(object, eventtype, reason, message)
}

// serviceAccountToken asks the TokenRequest API for a token of the agent's
// service account with the AAD exchange audience. One token serves every
// exchange until half its lifetime is over, so a burst of new pods costs
// one TokenRequest rather than one each.
func serviceAccountToken(kube kubernetes.Interface, namespace, name string) tokens.AssertionFunc {
	c := &assertionCache{now: time.Now, lock: make(chan struct{}, 1),
		fetch: func(ctx context.Context) (string, time.Time, error) {
			exp := int64(serviceAccountTokenSeconds)
			tr, err := kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authv1.TokenRequest{
				Spec: authv1.TokenRequestSpec{Audiences: []string{tokens.FederatedAudience}, ExpirationSeconds: &exp},
			}, metav1.CreateOptions{})
			if err != nil {
				return "", time.Time{}, fmt.Errorf("request token of ServiceAccount %s/%s: %w", namespace, name, err)
			}
			return tr.Status.Token, tr.Status.ExpirationTimestamp.Time, nil
		}}
	return c.get
}

// assertionCache keeps one service-account token and renews it once half
// its lifetime is over, well before AAD would refuse it (AADSTS700024).
type assertionCache struct {
	// fetch gets a new token and its expiry (zero: the requested lifetime).
	fetch func(ctx context.Context) (string, time.Time, error)
	now   func() time.Time
	// lock is a one-slot semaphore, so waiting for a renewal in progress
	// honours ctx; concurrent callers share that renewal.
	lock    chan struct{}
	token   string
	renewAt time.Time
}

func (c *assertionCache) get(ctx context.Context) (string, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("wait for the service-account token: %w", ctx.Err())
	}
	defer func() { <-c.lock }()
	now := c.now()
	if c.token != "" && now.Before(c.renewAt) {
		return c.token, nil
	}
	tok, exp, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	if exp.IsZero() {
		exp = now.Add(serviceAccountTokenSeconds * time.Second)
	}
	c.token, c.renewAt = tok, now.Add(exp.Sub(now)/2)
	return tok, nil
}
