package doctor

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
)

// NewCommand returns `podid doctor`.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose pod identity in a cluster: each check says pass, warn or fail and the command that fixes it",
		Long: `doctor reads the cluster (pods, AzureIdentities, bindings, assignments,
CRDs, the controller and node agents, Warning events, ServiceAccounts and
the workload-identity webhook) and probes each node
agent's /readyz on the nodes that run pods in scope, then runs independent
checks over what it read. It only reads: grant it the podid-doctor
ClusterRole where RBAC refuses. It exits with status 1 when a check fails.

A container waiting in ErrImagePull or ImagePullBackOff is explained from
the kubelet's event (image-pull: 401 with or without credentials, a tag
that is not there, the registry's firewall, DNS, a timeout, a private
registry without imagePullSecrets). With cloud access the doctor confirms
an Azure Container Registry's part: the registry, the kubelet identity on
the node's scale set, whether it holds a role that allows pull, and the
network rules (acr-pull-access).

With --kubeconfig the doctor first examines how that kubeconfig signs in
(kubeconfig-auth, signin-identity, local-accounts): the removed azure auth
provider, an exec plugin (kubelogin) not on PATH, who the API server says
the user is and whether it may list pods, and the bindings and Azure role
that would let it. It runs the exec plugin without a terminal for at most
10s: a plugin waiting for a device code is reported, not waited for. When
the kubeconfig cannot sign in or read the cluster, only those checks run.

With neither --kubeconfig nor $KUBECONFIG set it examines the podid up run
in ~/.podid, if there is one; --state-dir names another run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			t, err := resolve(o, cmd.Flags().Changed("token-mode"), osEnvironment())
			if err != nil {
				return err
			}
			return run(ctx, o, t, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// run gathers, checks, prints, and turns a failed report into an error.
func run(ctx context.Context, o *Options, t target, out io.Writer) error {
	checks, err := selectChecks(doctor.Checks(), o.Checks)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var signIn *doctor.SignInFacts
	var cfg *rest.Config
	if t.signIn != nil {
		// The kubeconfig's own sign-in first: when it fails, so would
		// everything else, and the sign-in checks say why.
		if signIn, cfg = doctor.GatherSignIn(ctx, *t.signIn); cfg == nil {
			return report(doctor.Run(signInOnly(t, signIn, nil), doctor.SignInChecks(checks, false)), o.Output, out)
		}
	} else if cfg, err = kubeclient.Config(t.kubeconfig); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: doctor.Scheme(kubeclient.Scheme())})
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	facts, err := doctor.Gather(ctx, c, t.gather)
	if err != nil && signIn != nil {
		return report(doctor.Run(signInOnly(t, signIn, []string{"could not read the cluster with the kubeconfig: " + err.Error()}), doctor.SignInChecks(checks, true)), o.Output, out)
	}
	if err != nil {
		return err
	}
	facts.SignIn = signIn
	doctor.GatherIssuer(ctx, cfg, facts)
	if t.cloud.Enabled() {
		cred, armOpts, err := t.cloud.Credential()
		if err != nil {
			return fmt.Errorf("sign in to the cloud: %w", err)
		}
		doctor.GatherCloud(ctx, doctor.NewCloudReader(cred, armOpts), facts)
	}
	return report(doctor.Run(facts, checks), o.Output, out)
}

// signInOnly are the facts of a run that could only examine the
// kubeconfig's sign-in; problems say why, if the sign-in checks do not.
func signInOnly(t target, s *doctor.SignInFacts, problems []string) *doctor.Facts {
	return &doctor.Facts{Scope: t.gather.Scope, Now: time.Now(), SignIn: s, Problems: problems}
}

// report prints r and returns an error naming the failed checks, if any.
func report(r doctor.Report, output string, out io.Writer) error {
	write := doctor.WriteTable
	if output == OutputJSON {
		write = doctor.WriteJSON
	}
	if err := write(out, r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return failure(r)
}

// failure is nil unless a check failed; then it says which, so that
// podid exits 1.
func failure(r doctor.Report) error {
	failed := map[string]bool{}
	for _, f := range r.Findings {
		if f.Status == doctor.Fail {
			failed[f.Check] = true
		}
	}
	if len(failed) == 0 {
		return nil
	}
	names := make([]string, 0, len(failed))
	for n := range failed {
		names = append(names, n)
	}
	sort.Strings(names)
	noun := "checks"
	if len(names) == 1 {
		noun = "check"
	}
	return fmt.Errorf("%d %s failed: %s", len(names), noun, strings.Join(names, ", "))
}
