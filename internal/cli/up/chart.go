package up

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podid/podid/internal/controlplane"
	"github.com/podid/podid/internal/plan"
)

// writeChartValues writes the values that install podid's chart onto this
// cluster's real node (podid up --without-podid), and mic's client secret
// when mic signs in to the cloud.
func (r *runner) writeChartValues(ctx context.Context) error {
	c := r.p.Chart
	var ports plan.ChartPorts
	for _, p := range []*int{&ports.MicProbe, &ports.MicMetrics, &ports.AgentProbe, &ports.AgentMetrics} {
		port, err := controlplane.FreePort()
		if err != nil {
			return err
		}
		*p = port
	}
	values, err := r.p.ChartValues(r.rt, r.cp.URL, ports)
	if err != nil {
		return err
	}
	b, err := yaml.Marshal(values)
	if err != nil {
		return fmt.Errorf("encode chart values: %w", err)
	}
	head := fmt.Sprintf("# Values of podid's chart for the cluster of podid up --state-dir %s:\n#   helm install %s charts/podid -n %s -f %s\n", r.p.StateDir, c.Release, c.Namespace, c.ValuesFile)
	if err := os.WriteFile(c.ValuesFile, append([]byte(head), b...), 0o600); err != nil {
		return fmt.Errorf("write chart values: %w", err)
	}
	r.log.Info("wrote chart values", "file", c.ValuesFile)
	if !r.p.ChartMicSignsIn() {
		return nil
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: plan.MicSecretName, Namespace: c.Namespace},
		StringData: map[string]string{"clientSecret": r.p.Mic.Secret},
	}
	if _, err := r.kube.CoreV1().Secrets(c.Namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create mic's client secret %s/%s: %w", c.Namespace, plan.MicSecretName, err)
	}
	return nil
}
