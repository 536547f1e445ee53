package cloud

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

type registryNameKey struct{}

func withRegistryName(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, registryNameKey{}, name)
}

// registryByContext dispatches to the registry the front door found in the Host.
func (c *Cloud) registryByContext() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := r.Context().Value(registryNameKey{}).(string)
		c.registryHandler(name).ServeHTTP(w, r)
	})
}

// LoopbackFrontDoor starts, once, a front door (ServeAzureNames) on a
// loopback port and returns its address. Clients that cannot resolve
// Azure's names (tests, a credential provider run beside the cloud)
// reach <registry>.azurecr.io, management.azure.com and
// login.microsoftonline.com there through RegistryTransport.
func (c *Cloud) LoopbackFrontDoor() (string, error) {
	c.store.content.mu.Lock()
	defer c.store.content.mu.Unlock()
	if c.store.content.frontDoor != "" {
		return c.store.content.frontDoor, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.opts.IMDSHost, "0"))
	if err != nil {
		return "", fmt.Errorf("listen for the loopback front door: %w", err)
	}
	if err := c.ServeAzureNames(ln); err != nil {
		_ = ln.Close()
		return "", err
	}
	c.store.content.frontDoor = ln.Addr().String()
	return c.store.content.frontDoor, nil
}

// RegistryTransport is an http.Transport that trusts the cloud's CA and
// sends every connection for an Azure host name on port 443 (such as
// myacr.azurecr.io:443) to LoopbackFrontDoor, so unmodified registry
// clients talk to https://<name>.azurecr.io as on Azure. Callers should
// CloseIdleConnections when done.
func (c *Cloud) RegistryTransport() (*http.Transport, error) {
	addr, err := c.LoopbackFrontDoor()
	if err != nil {
		return nil, err
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(a)
			if err == nil && port == "443" && routeAzureHost(host).service != serviceUnknown {
				a = addr
			}
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, a)
		},
		TLSClientConfig:     &tls.Config{RootCAs: c.CertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 5 * time.Second,
	}, nil
}
