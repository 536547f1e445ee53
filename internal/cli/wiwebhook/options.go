package wiwebhook

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/podid/podid/internal/logging"
	"github.com/podid/podid/internal/wiwebhook"
)

// Defaults.
const (
	DefaultNamespace   = "kube-system"
	DefaultServiceName = "podid-wi-webhook"
	DefaultSecretName  = "podid-wi-webhook-cert"
)

// Options are the flags of `podid wi-webhook`.
type Options struct {
	// Kubeconfig; empty uses the in-cluster configuration or $KUBECONFIG.
	Kubeconfig string
	// Namespace holds the certificate Secret and the Service.
	Namespace string
	// ServiceName is the Service the API server calls; its DNS names are
	// in the serving certificate.
	ServiceName string
	// SecretName is the certificate Secret, shared by the replicas.
	SecretName string
	// ConfigName names both webhook configurations whose caBundle is kept.
	ConfigName string
	// CertHosts are more names or addresses for the serving certificate.
	CertHosts []string
	// Address serves the webhooks over HTTPS; ProbeAddress /healthz and
	// /readyz, MetricsAddress /metrics (empty: not served).
	Address, ProbeAddress, MetricsAddress string
	// TLSMinVersion is 1.2 or 1.3.
	TLSMinVersion string
	// TenantID, Cloud, AuthorityHost and Audience are what is injected.
	TenantID, Cloud, AuthorityHost, Audience string
	// CertRefresh is how often the certificate Secret is read again.
	CertRefresh time.Duration
	Log         *logging.Options
}

// NewOptions returns the defaults, with v1.6's environment applied.
func NewOptions(getenv func(string) string) *Options {
	o := &Options{
		Namespace:      DefaultNamespace,
		ServiceName:    DefaultServiceName,
		SecretName:     DefaultSecretName,
		ConfigName:     wiwebhook.DefaultConfigName,
		Address:        ":9443",
		ProbeAddress:   ":9440",
		MetricsAddress: ":8095",
		TLSMinVersion:  "1.3",
		Audience:       wiwebhook.DefaultAudience,
		CertRefresh:    time.Minute,
		TenantID:       getenv("AZURE_TENANT_ID"),
		Cloud:          getenv("AZURE_ENVIRONMENT"),
		Log:            logging.NewOptions(logging.FormatJSON),
	}
	if ns := getenv("POD_NAMESPACE"); ns != "" {
		o.Namespace = ns
	}
	return o
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path of a kubeconfig file; empty uses the in-cluster configuration or $KUBECONFIG.")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "Namespace of the webhook's Service and certificate Secret; defaults to $POD_NAMESPACE when set.")
	fs.StringVar(&o.ServiceName, "service-name", o.ServiceName, "Service the API server calls the webhook through; its DNS names go into the serving certificate.")
	fs.StringVar(&o.SecretName, "cert-secret", o.SecretName, "Secret holding the webhook's CA and serving certificate, shared by all replicas; created when missing.")
	fs.StringVar(&o.ConfigName, "webhook-config", o.ConfigName, "Name of the MutatingWebhookConfiguration and ValidatingWebhookConfiguration whose caBundle the webhook keeps current.")
	fs.StringSliceVar(&o.CertHosts, "cert-host", o.CertHosts, "More DNS names or IP addresses for the serving certificate, e.g. 127.0.0.1 for an API server that calls the webhook by URL; repeatable.")
	fs.StringVar(&o.Address, "address", o.Address, "Address the admission webhooks are served on, over HTTPS.")
	fs.StringVar(&o.ProbeAddress, "probe-address", o.ProbeAddress, "Address of /healthz and /readyz (plain HTTP); empty serves no probes.")
	fs.StringVar(&o.MetricsAddress, "metrics-address", o.MetricsAddress, "Address of the Prometheus /metrics (plain HTTP); empty serves no metrics.")
	fs.StringVar(&o.TLSMinVersion, "tls-min-version", o.TLSMinVersion, "Lowest TLS version served: 1.2 or 1.3.")
	fs.StringVar(&o.TenantID, "tenant-id", o.TenantID, "Azure AD tenant injected as AZURE_TENANT_ID unless the service account names one; defaults to $AZURE_TENANT_ID. Required.")
	fs.StringVar(&o.Cloud, "cloud", o.Cloud, "Azure cloud whose Azure AD is injected as AZURE_AUTHORITY_HOST: AzurePublicCloud, AzureChinaCloud, AzureUSGovernmentCloud or AzureGermanCloud; defaults to $AZURE_ENVIRONMENT, else the public cloud.")
	fs.StringVar(&o.AuthorityHost, "authority-host", o.AuthorityHost, "AZURE_AUTHORITY_HOST to inject, e.g. the embedded cloud's; overrides --cloud.")
	fs.StringVar(&o.Audience, "audience", o.Audience, "Audience of the projected service account token.")
	fs.DurationVar(&o.CertRefresh, "cert-refresh", o.CertRefresh, "How often the certificate Secret is read again, to renew a certificate that is due or load one another replica renewed.")
	o.Log.AddFlags(fs)
}

// Validate reports bad option values, all at once.
func (o *Options) Validate() error {
	var errs []error
	if o.TenantID == "" {
		errs = append(errs, errors.New("no tenant: give --tenant-id or set AZURE_TENANT_ID"))
	}
	if o.AuthorityHost == "" {
		if _, err := wiwebhook.AuthorityHostFor(o.Cloud); err != nil {
			errs = append(errs, fmt.Errorf("--cloud: %w", err))
		}
	} else if u, err := url.Parse(o.AuthorityHost); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("--authority-host %q: want an https URL such as %s", o.AuthorityHost, wiwebhook.DefaultAuthorityHost))
	}
	if o.Audience == "" {
		errs = append(errs, fmt.Errorf("--audience is empty: Azure AD expects %s", wiwebhook.DefaultAudience))
	}
	for flag, v := range map[string]string{"--namespace": o.Namespace, "--service-name": o.ServiceName, "--cert-secret": o.SecretName, "--webhook-config": o.ConfigName} {
		if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s %q: %s", flag, v, strings.Join(msgs, "; ")))
		}
	}
	for flag, v := range map[string]string{"--address": o.Address, "--probe-address": o.ProbeAddress, "--metrics-address": o.MetricsAddress} {
		if _, _, err := net.SplitHostPort(v); v != "" && err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want HOST:PORT, e.g. :9443", flag, v))
		}
	}
	if o.ProbeAddress != "" && o.ProbeAddress == o.MetricsAddress {
		errs = append(errs, errors.New("--probe-address and --metrics-address are equal: give each its own port"))
	}
	if _, err := tlsVersion(o.TLSMinVersion); err != nil {
		errs = append(errs, err)
	}
	if o.CertRefresh <= 0 {
		errs = append(errs, fmt.Errorf("--cert-refresh %s: want a positive duration such as 1m", o.CertRefresh))
	}
	if err := o.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// hosts are the serving certificate's names: the Service's DNS names, then
// CertHosts.
func (o *Options) hosts() []string {
	svc, ns := o.ServiceName, o.Namespace
	return append([]string{svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local", svc, svc + "." + ns}, o.CertHosts...)
}

// serverOptions turns validated options into the server's.
func (o *Options) serverOptions() wiwebhook.Options {
	host := o.AuthorityHost
	if host == "" {
		host, _ = wiwebhook.AuthorityHostFor(o.Cloud) // checked by Validate
	}
	v, _ := tlsVersion(o.TLSMinVersion)
	return wiwebhook.Options{
		Config: wiwebhook.Config{Audience: o.Audience, AuthorityHost: host, TenantID: o.TenantID},
		Certs: wiwebhook.CertOptions{
			Secret:     types.NamespacedName{Namespace: o.Namespace, Name: o.SecretName},
			ConfigName: o.ConfigName,
			Hosts:      o.hosts(),
			Refresh:    o.CertRefresh,
		},
		TLSMinVersion: v,
	}
}

func tlsVersion(v string) (uint16, error) {
	switch v {
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("--tls-min-version %q: want 1.2 or 1.3", v)
}
