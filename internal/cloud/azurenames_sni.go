package cloud

import (
	"crypto/tls"
	"fmt"
	"sync"
)

// namesCert is the certificate for Azure's host names, issued on first use.
type namesCert struct {
	once sync.Once
	cert tls.Certificate
	err  error
}

// certificateFor picks the main listener's certificate by TLS server name:
// one of Azure's names (login.microsoftonline.com, ...) gets the certificate
// that names it; any other name, or none, the listener's own. MSAL for
// Python, and with it az CLI, asks login.microsoftonline.com whether an
// authority it does not know is valid (instance discovery) and has no
// switch to skip that; a client whose HTTPS proxy tunnels that one name to
// this listener then finds the name it asked for. Azure's public cloud is
// not reachable from where the cloud runs, so nothing real is shadowed.
func (c *Cloud) certificateFor(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello.ServerName == "" || routeAzureHost(hello.ServerName).service == serviceUnknown {
		return nil, nil // the listener's own certificate
	}
	n := &c.namesCert
	n.once.Do(func() {
		n.cert, n.err = c.pki.issueLeaf("podid embedded cloud (Azure names)", AzureNames(), nil)
		if n.err != nil {
			n.err = fmt.Errorf("issue certificate for Azure names: %w", n.err)
		}
	})
	if n.err != nil {
		return nil, n.err
	}
	return &n.cert, nil
}
