package doctor_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/testenv"
	"github.com/podid/podid/internal/testenv/netnode"
)

// cloudEnv is a cluster with the embedded cloud seeded from a netnode
// world, and the two readers the doctor uses: the API server's, and the
// cloud's through mic's own ARM sign-in.
type cloudEnv struct {
	env   *testenv.Env
	cloud *cloud.Cloud
	kube  client.Client
	arm   doctor.CloudReader
}

func startCloudEnv(ctx context.Context, t *testing.T, w netnode.World) cloudEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a control plane and the embedded cloud")
	}
	env := testenv.StartT(t, testenv.Options{Nodes: 1})
	c, err := netnode.StartCloud(ctx, w, env.ControlPlane.Issuer, env.ControlPlane.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ca, err := netnode.CloudCAFile(env.Dir, c)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := netnode.MICOptions(env, c, w.TenantID, ca)
	if err != nil {
		t.Fatal(err)
	}
	cred, armOpts, err := opts.Cloud.Credential()
	if err != nil {
		t.Fatal(err)
	}
	kube, err := client.New(env.Config, client.Options{Scheme: doctor.Scheme(kubeclient.Scheme())})
	if err != nil {
		t.Fatal(err)
	}
	return cloudEnv{env: env, cloud: c, kube: kube, arm: doctor.NewCloudReader(cred, armOpts)}
}
