package agent

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// showLogsEnv, when set, prints the agents' logs even when every test passes.
const showLogsEnv = "PODID_AGENT_LOGS"

// nodes is how many fake nodes (and scale-set instances) the suite has.
const nodes = 2

// suite is what every test of the package shares.
type suite struct {
	env   *testenv.Env
	cloud *cloud.Cloud
	// cloudHTTP trusts the cloud's CA.
	cloudHTTP *http.Client
	agents    map[string]*nodeAgent // by node name
}

var s suite

func TestMain(m *testing.M) {
	if os.Getenv(netnsNodeEnv) != "" {
		ctrl.SetLogger(logr.Discard())
		os.Exit(runNetnsNode())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	clearAzureEnv()
	ctrl.SetLogger(logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	stop, err := setUp(ctx)
	defer stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "set up agent suite:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "cluster, cloud, mic and %d agents ready in %s\n", nodes, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if code != 0 || os.Getenv(showLogsEnv) != "" {
		for _, a := range s.agents {
			fmt.Fprintf(os.Stderr, "--- log of the agent of %s:\n%s\n", a.node, a.logTail(60))
		}
	}
	return code
}

// setUp starts the cluster, the cloud, mic and the agents. stop undoes
// whatever was started, in reverse order, even when setUp fails.
func setUp(ctx context.Context) (stop func(), err error) {
	var undo []func()
	stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	s.env, err = testenv.Start(ctx, testenv.Options{Nodes: nodes, ProviderID: func(i int) string {
		return "azure://" + scaleSetID + "/virtualMachines/" + strconv.Itoa(i)
	}})
	if err != nil {
		return stop, fmt.Errorf("start test cluster: %w", err)
	}
	undo = append(undo, s.env.Stop)
	cp := s.env.ControlPlane
	if s.cloud, err = startCloud(ctx, cp.Issuer, cp.CAFile, nodes); err != nil {
		return stop, err
	}
	s.cloudHTTP = s.cloud.HTTPClient()
	undo = append(undo, func() {
		s.cloudHTTP.CloseIdleConnections()
		_ = s.cloud.Close()
	})
	if err := netnode.CreateAgentServiceAccount(ctx, s.env); err != nil {
		return stop, err
	}
	micCtx, micCancel := context.WithCancel(ctx)
	micDone, err := startMIC(micCtx)
	if err != nil {
		micCancel()
		return stop, err
	}
	undo = append(undo, func() {
		micCancel()
		if err := <-micDone; err != nil {
			fmt.Fprintln(os.Stderr, "mic:", err)
		}
	})
	agentCtx, agentCancel := context.WithCancel(ctx)
	s.agents, err = startAgents(agentCtx)
	undo = append(undo, func() {
		agentCancel()
		for _, a := range s.agents {
			a.wait()
		}
	})
	return stop, err
}

// startMIC runs mic's controllers in-process, with node mode writing to the
// embedded cloud as the mic service principal.
func startMIC(ctx context.Context) (<-chan error, error) {
	caFile, err := cloudCAFile()
	if err != nil {
		return nil, err
	}
	return netnode.StartMIC(ctx, s.env, s.cloud, tenantID, caFile)
}

// cloudCAFile writes the cloud's CA bundle once and returns its path.
func cloudCAFile() (string, error) {
	return netnode.CloudCAFile(s.env.Dir, s.cloud)
}

// clearAzureEnv unsets what would make DefaultAzureCredential try another
// credential before managed identity, or aim it elsewhere.
func clearAzureEnv() {
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_SECRET",
		"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_TOKEN_CREDENTIALS", "AZURE_AUTHORITY_HOST",
		"AZURE_REGIONAL_AUTHORITY_NAME", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		_ = os.Unsetenv(k)
	}
}
