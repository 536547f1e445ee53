// Package kubeclient holds what every podid binary needs to talk to the API
// server: a scheme with podid's kinds, and the lookup of a client
// configuration from a flag, $KUBECONFIG or the pod's service account.
package kubeclient

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"

	podidv1 "github.com/podid/podid/api/v1"
)

// Scheme returns a new scheme with the built-in kinds and podid's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	// Both calls only fail on a programming error (a kind registered twice).
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("register built-in kinds: %v", err))
	}
	if err := podidv1.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("register podid kinds: %v", err))
	}
	return s
}

// Config loads a client configuration from kubeconfig if set, otherwise
// from $KUBECONFIG, ~/.kube/config or the in-cluster service account.
func Config(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("find a cluster (pass --kubeconfig): %w", err)
	}
	return cfg, nil
}
