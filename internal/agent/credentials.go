package agent

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/podid/podid/internal/tokens"
)

// Secret keys, as aad-pod-identity read them.
const (
	secretKeyClientSecret = "clientsecret"
	secretKeyCertificate  = "certificate"
)

// serviceAccountTokenSeconds is the lifetime asked of service-account
// tokens for the federated exchange; each is reused for half of it.
const serviceAccountTokenSeconds = 600

// secretData reads one key of the identity's Secret.
func secretData(ctx context.Context, kube kubernetes.Interface, id tokens.Identity, key string) ([]byte, error) {
	if id.SecretName == "" {
		return nil, errors.New("identity " + id.Name + " names no Secret in spec.clientPassword")
	}
	s, err := kube.CoreV1().Secrets(id.SecretNamespace).Get(ctx, id.SecretName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get Secret %s/%s: %w", id.SecretNamespace, id.SecretName, err)
	}
	v, ok := s.Data[key]
	if !ok || len(v) == 0 {
		return nil, fmt.Errorf("secret %s/%s has no %q key", id.SecretNamespace, id.SecretName, key)
	}
	return v, nil
}

// clientSecretFrom reads a service principal's secret from its Secret.
func clientSecretFrom(kube kubernetes.Interface) tokens.SecretFunc {
	return func(ctx context.Context, id tokens.Identity) (string, error) {
		b, err := secretData(ctx, kube, id, secretKeyClientSecret)
		return string(b), err
	}
}

// certificateFrom reads a PEM certificate and key from the identity's
// Secret. TODO: PKCS#12 with a "password" key, as aad-pod-identity accepted.
func certificateFrom(kube kubernetes.Interface) tokens.CertificateFunc {
	return func(ctx context.Context, id tokens.Identity) ([]*x509.Certificate, *rsa.PrivateKey, error) {
		b, err := secretData(ctx, kube, id, secretKeyCertificate)
		if err != nil {
			return nil, nil, err
		}
		return tokens.ParseCertificatePEM(b)
	}
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
