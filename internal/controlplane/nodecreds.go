package controlplane

import (
	"crypto/x509"
	"fmt"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// NodeKubeconfig writes a kubeconfig for the kubelet of node name to path:
// a client certificate for system:node:<name> in group system:nodes, which
// the Node authorizer limits to that node's own objects, as a TLS-bootstrapped
// kubelet on AKS has.
func (cp *ControlPlane) NodeKubeconfig(name, path string) error {
	kp, err := newCert(certRequest{
		cn: "system:node:" + name, org: []string{"system:nodes"},
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, &cp.keys.ca, time.Now())
	if err != nil {
		return fmt.Errorf("issue kubelet client certificate for node %s: %w", name, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["podid"] = &clientcmdapi.Cluster{Server: cp.URL, CertificateAuthorityData: cp.keys.ca.certPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.certPEM, ClientKeyData: kp.keyPEM}
	cfg.Contexts["podid"] = &clientcmdapi.Context{Cluster: "podid", AuthInfo: name}
	cfg.CurrentContext = "podid"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig of node %s: %w", name, err)
	}
	return nil
}
