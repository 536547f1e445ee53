package wiwebhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// CertOptions say where the serving certificate lives and who must trust it.
type CertOptions struct {
	// Secret holds the CA and the serving certificate, shared by every
	// replica; whichever replica finds it missing or due creates it.
	Secret types.NamespacedName
	// ConfigName names the MutatingWebhookConfiguration and the
	// ValidatingWebhookConfiguration whose caBundle is kept equal to the
	// CA; a configuration that does not exist is skipped.
	ConfigName string
	// Hosts are the serving certificate's names: DNS names or IP addresses.
	Hosts []string
	// Lifetimes of the CA and the serving certificate; zero: DefaultLifetimes.
	Lifetimes Lifetimes
	// Refresh is how often the Secret is read again; zero: a minute.
	Refresh time.Duration
	// Clock and Random default to the real ones.
	Clock  clock.Clock
	Random io.Reader
}

// rotator keeps the serving certificate: it reads the Secret, renews what
// is due (renewal), publishes the caBundle, then serves the certificate.
type rotator struct {
	kube    kubernetes.Interface
	opts    CertOptions
	log     *slog.Logger
	metrics *Metrics
	current atomic.Pointer[certs]
	// kicked asks run for a pass now: a webhook configuration changed.
	kicked chan struct{}

	// bundle is the caBundle last published and bundleSince when it was
	// first; pending says a certificate of a new CA waits for trustDelay.
	// Only run's goroutine uses them.
	bundle      []byte
	bundleSince time.Time
	pending     bool
}

// trustDelay is how long a replica keeps serving a certificate of the old
// CA after the bundle with the new CA was published.
const trustDelay = 3 * time.Second

func newRotator(kube kubernetes.Interface, opts CertOptions, log *slog.Logger, m *Metrics) *rotator {
	if opts.Lifetimes == (Lifetimes{}) {
		opts.Lifetimes = DefaultLifetimes
	}
	if opts.Refresh == 0 {
		opts.Refresh = time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	return &rotator{kube: kube, opts: opts, log: log, metrics: m, kicked: make(chan struct{}, 1)}
}

// watchConfigs kicks a pass whenever either webhook configuration is
// created or changed, e.g. re-applied by helm with an empty caBundle, so
// the API server trusts the webhook again at once, not a Refresh later.
func (r *rotator) watchConfigs(ctx context.Context) {
	if r.opts.ConfigName == "" {
		return
	}
	factory := informers.NewSharedInformerFactoryWithOptions(r.kube, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", r.opts.ConfigName).String()
	}))
	kick := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { r.kick() },
		UpdateFunc: func(any, any) { r.kick() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		factory.Admissionregistration().V1().MutatingWebhookConfigurations().Informer(),
		factory.Admissionregistration().V1().ValidatingWebhookConfigurations().Informer(),
	} {
		if _, err := inf.AddEventHandler(kick); err != nil {
			r.log.Error("webhook configurations not watched", "error", err)
		}
	}
	factory.Start(ctx.Done())
}

func (r *rotator) kick() {
	select {
	case r.kicked <- struct{}{}:
	default:
	}
}

// run syncs now and then every Refresh (every few seconds after a failure)
// until ctx ends.
func (r *rotator) run(ctx context.Context) {
	for {
		delay := r.opts.Refresh
		if err := r.sync(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Error("serving certificate not synced", "error", err)
			delay = min(delay, 5*time.Second)
		}
		if r.pending {
			delay = min(delay, trustDelay)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.opts.Clock.After(delay):
		case <-r.kicked:
		}
	}
}

// sync is one pass; conflicts with another replica are retried at once.
func (r *rotator) sync(ctx context.Context) error {
	var err error
	for range 5 {
		err = r.syncOnce(ctx)
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return err
}

func (r *rotator) syncOnce(ctx context.Context) error {
	now := r.opts.Clock.Now()
	ref := r.opts.Secret
	secret, err := r.kube.CoreV1().Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		secret, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("get Secret %s: %w", ref, err)
	}
	var c *certs
	if secret != nil {
		c = parseCerts(secret.Data)
	}
	renewCA, renewLeaf, reason := renewal(now, c, r.opts.Hosts)
	if renewLeaf {
		if c, err = issue(now, r.opts.Random, c, renewCA, r.opts.Hosts, r.opts.Lifetimes); err != nil {
			return err
		}
		if err := r.write(ctx, secret, c); err != nil {
			return err
		}
		r.log.Info("serving certificate issued", "reason", reason, "secret", ref.String(), "ca_renewed", renewCA, "not_after", c.leaf.NotAfter)
	}
	// Trust first, then serve: the API servers must know the CA of a
	// certificate before any replica presents it.
	bundle := c.caBundle(now)
	if err := r.publish(ctx, bundle); err != nil {
		return err
	}
	if !bytes.Equal(bundle, r.bundle) {
		r.bundle, r.bundleSince = bundle, now
	}
	old := r.current.Load()
	switch {
	case old != nil && old.leaf.Equal(c.leaf):
		r.pending = false
	case old != nil && !old.ca.Equal(c.ca) && now.Before(old.leaf.NotAfter) && now.Sub(r.bundleSince) < trustDelay:
		// A new CA: API servers pick the new bundle up from their
		// informers; keep the old certificate, which they trust, a moment.
		r.pending = true
	default:
		r.current.Store(c)
		r.pending = false
		r.log.Info("serving certificate loaded", "serial", c.leaf.SerialNumber.Text(16), "not_after", c.leaf.NotAfter)
		r.metrics.certificateLoaded(c.leaf.NotAfter)
	}
	return nil
}

func (r *rotator) write(ctx context.Context, secret *corev1.Secret, c *certs) error {
	secrets := r.kube.CoreV1().Secrets(r.opts.Secret.Namespace)
	if secret == nil {
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: r.opts.Secret.Name, Namespace: r.opts.Secret.Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "podid-wi-webhook"}},
			Type: corev1.SecretTypeTLS,
			Data: c.secretData(),
		}
		if _, err := secrets.Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create Secret %s: %w", r.opts.Secret, err)
		}
		return nil
	}
	secret = secret.DeepCopy()
	secret.Data = c.secretData()
	if _, err := secrets.Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update Secret %s: %w", r.opts.Secret, err)
	}
	return nil
}

// publish sets caBundle on every webhook of both configurations.
func (r *rotator) publish(ctx context.Context, bundle []byte) error {
	name := r.opts.ConfigName
	if name == "" {
		return nil
	}
	ar := r.kube.AdmissionregistrationV1()
	m, err := ar.MutatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get MutatingWebhookConfiguration %s: %w", name, err)
	default:
		changed := false
		for i := range m.Webhooks {
			if !bytes.Equal(m.Webhooks[i].ClientConfig.CABundle, bundle) {
				m.Webhooks[i].ClientConfig.CABundle, changed = bundle, true
			}
		}
		if changed {
			if _, err := ar.MutatingWebhookConfigurations().Update(ctx, m, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update caBundle of MutatingWebhookConfiguration %s: %w", name, err)
			}
			r.log.Info("caBundle published", "mutatingwebhookconfiguration", name)
		}
	}
	v, err := ar.ValidatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get ValidatingWebhookConfiguration %s: %w", name, err)
	default:
		changed := false
		for i := range v.Webhooks {
			if !bytes.Equal(v.Webhooks[i].ClientConfig.CABundle, bundle) {
				v.Webhooks[i].ClientConfig.CABundle, changed = bundle, true
			}
		}
		if changed {
			if _, err := ar.ValidatingWebhookConfigurations().Update(ctx, v, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update caBundle of ValidatingWebhookConfiguration %s: %w", name, err)
			}
			r.log.Info("caBundle published", "validatingwebhookconfiguration", name)
		}
	}
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (r *rotator) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := r.current.Load()
	if c == nil {
		return nil, errors.New("no serving certificate yet")
	}
	return c.leafPair, nil
}

// ready reports whether a valid certificate is loaded.
func (r *rotator) ready() error {
	c := r.current.Load()
	if c == nil {
		return errors.New("no serving certificate loaded yet")
	}
	if r.opts.Clock.Now().After(c.leaf.NotAfter) {
		return fmt.Errorf("serving certificate expired at %s", c.leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}
