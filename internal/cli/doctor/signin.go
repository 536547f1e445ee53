package doctor

import (
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/podid/podid/internal/doctor"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// signInTarget is how to examine the sign-in of kubeconfig: with the
// podid up run whose API server it reaches, when there is one (~/.podid,
// or the run whose token cache its podid get-token entry names), so the
// findings know the run's cluster, whether local accounts are disabled
// and, read with the run's own credential, the RBAC bindings.
func signInTarget(kubeconfig, namespace string, env environment) *doctor.SignInOptions {
	o := &doctor.SignInOptions{Kubeconfig: kubeconfig, Namespace: namespace}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return o // GatherSignIn reports it.
	}
	kctx := raw.Contexts[raw.CurrentContext]
	if kctx == nil || raw.Clusters[kctx.Cluster] == nil {
		return o
	}
	server := strings.TrimSuffix(raw.Clusters[kctx.Cluster].Server, "/")
	dirs := []string{env.defaultDir}
	if u := raw.AuthInfos[kctx.AuthInfo]; u != nil && u.Exec != nil {
		for i, a := range u.Exec.Args {
			// plan.TokenCacheDir(dir) is dir/<run>/token-cache.
			if a == "--cache-dir" && i+1 < len(u.Exec.Args) && plan.TokenCacheDir(filepath.Dir(filepath.Dir(u.Exec.Args[i+1]))) == u.Exec.Args[i+1] {
				dirs = append(dirs, filepath.Dir(filepath.Dir(u.Exec.Args[i+1])))
			}
		}
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		rec, err := runstate.Read(plan.RecordFile(dir))
		if err != nil || rec.SignIn == nil || !env.alive(rec.Supervisor) || strings.TrimSuffix(rec.APIServer, "/") != server {
			continue
		}
		si := rec.SignIn
		o.Run = &doctor.SignInRun{StateDir: dir, Kubeconfig: rec.Kubeconfig, ClusterName: si.Cluster.Name, ResourceGroup: si.Cluster.ResourceGroup,
			ClusterID: si.Cluster.ID, LocalAccounts: si.LocalAccounts, AzureRBAC: si.AzureRBAC != nil}
		for _, g := range si.AdminGroups {
			o.Run.AdminGroups = append(o.Run.AdminGroups, g.ObjectID)
		}
		if cfg, err := kubeclient.Config(rec.Kubeconfig); err == nil {
			o.BindingsConfig = cfg
		}
		break
	}
	return o
}
