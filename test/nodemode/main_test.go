package nodemode

import (
	"context"
	"fmt"
	"github.com/go-logr/logr"
	"os"
	"path/filepath"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/world"
	"github.com/podid/podid/internal/controller"
	"github.com/podid/podid/internal/testenv"
)

var (
	env   *testenv.Env
	azure *cloud.Cloud
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(logr.Discard()) // the tests read outcomes from the API, not logs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "podid-nodemode-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)

	w, err := world.Parse("nodemode-world.yaml", []byte(worldYAML()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	seed, err := w.State()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	azure, err = cloud.Start(ctx, cloud.Options{StateDir: filepath.Join(dir, "cloud"), Seed: seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded cloud:", err)
		return 1
	}
	defer azure.Close()

	env, err = testenv.Start(ctx, testenv.Options{
		Nodes:      pools,
		ProviderID: func(i int) string { return "azure://" + vmssID(i) + "/virtualMachines/0" },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test cluster:", err)
		return 1
	}
	defer env.Stop()

	secretFile := filepath.Join(dir, "mic-secret")
	if err := os.WriteFile(secretFile, []byte(micSecret), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts := controller.NewOptions()
	opts.TokenMode = podidv1.TokenModeNode
	opts.Cloud.ARMEndpoint = azure.ARMURL()
	opts.Cloud.AuthorityHost = azure.AuthorityURL()
	opts.Cloud.TenantID = tenantID
	opts.Cloud.ClientID = micAppID
	opts.Cloud.ClientSecretFile = secretFile
	opts.Cloud.CAFile = azure.CAPath()
	opts.Cloud.Immutable = []string{identityID(nodeRG, kubeletName)}
	opts.Cloud.Resync = 2 * time.Second
	wait, err := env.RunMIC(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	cancel()
	if err := wait(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
	}
	return code
}
