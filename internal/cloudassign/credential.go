package cloudassign

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/pflag"
)

// CloudOptions say how mic reaches ARM in node mode. With no ARM endpoint
// set, node-mode identities are never assigned to machines.
type CloudOptions struct {
	// ARMEndpoint is Resource Manager, e.g. https://management.azure.com/.
	ARMEndpoint string
	// AuthorityHost is Azure AD, e.g. https://login.microsoftonline.com/.
	AuthorityHost string
	// TenantID, ClientID and ClientSecretFile select a service principal;
	// without a secret file, ClientID names a user-assigned managed identity
	// read from the node's IMDS (the AKS kubelet identity, as with
	// aad-pod-identity).
	TenantID, ClientID, ClientSecretFile string
	// IMDSAddress redirects the managed-identity client's 169.254.169.254:80.
	IMDSAddress string
	// CAFile adds trusted CAs (for a private cloud or the embedded one).
	CAFile string
	// Immutable identities are never removed from machines.
	Immutable []string
	// Resync is how often each machine is read again to repair drift.
	Resync time.Duration
}

// armAudience is Resource Manager's token audience in Azure's public cloud,
// which the embedded cloud accepts too.
const armAudience = "https://management.azure.com"

// Enabled reports whether node mode can write to the cloud.
func (o *CloudOptions) Enabled() bool { return o.ARMEndpoint != "" }

// AddFlags binds the options.
func (o *CloudOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ARMEndpoint, "arm-endpoint", o.ARMEndpoint, "Azure Resource Manager endpoint (https://management.azure.com/). Empty: node-mode identities are not assigned to VMs or VMSS.")
	fs.StringVar(&o.AuthorityHost, "authority-host", o.AuthorityHost, "Azure AD authority host.")
	fs.StringVar(&o.TenantID, "azure-tenant-id", o.TenantID, "Tenant of the controller's service principal.")
	fs.StringVar(&o.ClientID, "azure-client-id", o.ClientID, "Client ID of the controller's service principal, or of the managed identity it uses when --azure-client-secret-file is empty.")
	fs.StringVar(&o.ClientSecretFile, "azure-client-secret-file", o.ClientSecretFile, "File holding the service principal's secret. Empty: use a managed identity through IMDS.")
	fs.StringVar(&o.IMDSAddress, "imds-address", o.IMDSAddress, "host:port that stands for 169.254.169.254:80 when the controller gets its own managed-identity token.")
	fs.StringVar(&o.CAFile, "cloud-ca-file", o.CAFile, "PEM file of extra CAs to trust for Azure AD and ARM.")
	fs.StringSliceVar(&o.Immutable, "immutable-identities", o.Immutable, "Resource IDs of user-assigned identities the controller must never remove from a VM or VMSS (comma-separated), e.g. the kubelet identity.")
	fs.DurationVar(&o.Resync, "cloud-resync", o.Resync, "How often each VM or VMSS is read again to put back identities removed by hand. 0 means 3m.")
}

// Validate reports options that cannot work together.
func (o *CloudOptions) Validate() error {
	if !o.Enabled() {
		return nil
	}
	var errs []error
	if !strings.HasPrefix(o.ARMEndpoint, "https://") {
		errs = append(errs, fmt.Errorf("--arm-endpoint must be https, got %q", o.ARMEndpoint))
	}
	if o.ClientSecretFile != "" && (o.TenantID == "" || o.ClientID == "") {
		errs = append(errs, errors.New("--azure-client-secret-file needs --azure-tenant-id and --azure-client-id"))
	}
	if o.Resync < 0 {
		errs = append(errs, fmt.Errorf("--cloud-resync must not be negative, got %s", o.Resync))
	}
	return errors.Join(errs...)
}

// NewMachines builds the ARM client these options describe.
func (o *CloudOptions) NewMachines() (Machines, error) {
	cred, opts, err := o.Credential()
	if err != nil {
		return nil, err
	}
	return NewARMMachines(cred, opts), nil
}

// Credential is the sign-in and client options these options describe:
// what mic uses for ARM, and what `podid doctor` reads the cloud with.
func (o *CloudOptions) Credential() (azcore.TokenCredential, arm.ClientOptions, error) {
	transport, err := o.transport()
	if err != nil {
		return nil, arm.ClientOptions{}, err
	}
	authority := o.AuthorityHost
	if authority == "" {
		authority = azcloud.AzurePublic.ActiveDirectoryAuthorityHost
	}
	cfg := azcloud.Configuration{
		ActiveDirectoryAuthorityHost: authority,
		Services: map[azcloud.ServiceName]azcloud.ServiceConfiguration{
			azcloud.ResourceManager: {Endpoint: o.ARMEndpoint, Audience: armAudience},
		},
	}
	client := policy.ClientOptions{Cloud: cfg, Transport: transport}
	var cred azcore.TokenCredential
	if o.ClientSecretFile != "" {
		secret, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return nil, arm.ClientOptions{}, fmt.Errorf("read --azure-client-secret-file: %w", err)
		}
		cred, err = azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, strings.TrimSpace(string(secret)),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: client, DisableInstanceDiscovery: true})
		if err != nil {
			return nil, arm.ClientOptions{}, fmt.Errorf("create client secret credential: %w", err)
		}
	} else {
		mi := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: client}
		if o.ClientID != "" {
			mi.ID = azidentity.ClientID(o.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mi)
		if err != nil {
			return nil, arm.ClientOptions{}, fmt.Errorf("create managed identity credential: %w", err)
		}
	}
	return cred, arm.ClientOptions{ClientOptions: client}, nil
}

// transport trusts CAFile and sends IMDS calls to IMDSAddress.
func (o *CloudOptions) transport() (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read --cloud-ca-file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--cloud-ca-file %s holds no PEM certificate", o.CAFile)
		}
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	imds := o.IMDSAddress
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if imds != "" && addr == "169.254.169.254:80" {
				addr = imds
			}
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
	}}, nil
}
