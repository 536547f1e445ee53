package kubeclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// discoveryTimeout bounds one fetch of a discovery document.
const discoveryTimeout = 5 * time.Second

// Issuer returns the cluster's service-account token issuer, as the API
// server's /.well-known/openid-configuration states it: the issuer every
// federated credential trusting this cluster must name exactly.
func Issuer(ctx context.Context, cfg *rest.Config) (string, error) {
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", fmt.Errorf("create HTTP client: %w", err)
	}
	issuer, err := DiscoveryIssuer(ctx, c, cfg.Host)
	if err != nil {
		return "", fmt.Errorf("read the API server's /.well-known/openid-configuration: %w", err)
	}
	return issuer, nil
}

// DiscoveryIssuer fetches base's OpenID discovery document with c and
// returns the issuer it names.
func DiscoveryIssuer(ctx context.Context, c *http.Client, base string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("GET %s: decode: %w", req.URL, err)
	}
	return doc.Issuer, nil
}
