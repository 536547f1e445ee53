package cloud

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type imdsListener struct {
	inst Instance
	srv  *http.Server
}

type vaultListener struct {
	name string
	url  string
	srv  *http.Server
}

// ensureListenersLocked starts an IMDS listener for every machine instance
// and an HTTPS listener for every vault that lacks one. store.mu is held.
func (c *Cloud) ensureListenersLocked() error {
	c.lnMu.Lock()
	defer c.lnMu.Unlock()
	for _, m := range c.store.st.Machines {
		n := 1
		if m.ScaleSet {
			n = m.Capacity
		}
		for i := 0; i < n; i++ {
			key := lower(m.ID) + "#" + strconv.Itoa(i)
			if _, ok := c.imds[key]; ok {
				continue
			}
			ln, err := net.Listen("tcp", net.JoinHostPort(c.opts.IMDSHost, "0"))
			if err != nil {
				return fmt.Errorf("listen IMDS for %s: %w", m.Name, err)
			}
			name := m.Name
			if m.ScaleSet {
				name = m.Name + "_" + strconv.Itoa(i)
			}
			inst := Instance{MachineID: m.ID, Name: name, Index: i, IMDSURL: "http://" + ln.Addr().String(), Addr: ln.Addr().String()}
			srv := &http.Server{Handler: c.instrument("imds", c.imdsHandler(m.ID)), ReadHeaderTimeout: 10 * time.Second}
			c.imds[key] = &imdsListener{inst: inst, srv: srv}
			c.serve(srv, ln)
		}
	}
	for _, v := range c.store.st.Vaults {
		key := lower(v.Name)
		if _, ok := c.vault[key]; ok {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(c.opts.IMDSHost, "0"))
		if err != nil {
			return fmt.Errorf("listen vault %s: %w", v.Name, err)
		}
		srv := &http.Server{Handler: c.instrument("keyvault", c.vaultHandler(v.Name)), TLSConfig: c.tlsConfig(), ReadHeaderTimeout: 10 * time.Second}
		c.vault[key] = &vaultListener{name: v.Name, url: "https://" + ln.Addr().String() + "/", srv: srv}
		c.serve(srv, tls.NewListener(ln, srv.TLSConfig))
	}
	return nil
}

// IMDSAddr returns the IMDS listener address (host:port) of a machine
// instance named like Instance.Name, or "" when unknown.
func (c *Cloud) IMDSAddr(instanceName string) string {
	for _, in := range c.Instances() {
		if strings.EqualFold(in.Name, instanceName) {
			return in.Addr
		}
	}
	return ""
}
