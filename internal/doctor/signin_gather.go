package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultPluginTimeout is how long the doctor waits for an exec plugin:
// one that needs a person (device code) does not answer in time.
const DefaultPluginTimeout = 10 * time.Second

// SignInOptions configure GatherSignIn.
type SignInOptions struct {
	// Kubeconfig is the file to examine.
	Kubeconfig string
	// Namespace is where access is reviewed besides the cluster scope;
	// empty: the context's namespace, else default.
	Namespace string
	// Run is the podid up run the kubeconfig reaches, if known.
	Run *SignInRun
	// BindingsConfig lists the RBAC bindings (the run's own credential);
	// nil lists them as the kubeconfig's user.
	BindingsConfig *rest.Config
	// PluginTimeout bounds the exec plugin; 0 means DefaultPluginTimeout.
	PluginTimeout time.Duration
	// LookPath and Getenv are exec.LookPath and os.Getenv unless set.
	LookPath func(string) (string, error)
	Getenv   func(string) string
}

// GatherSignIn reads the kubeconfig, runs its exec plugin without a
// terminal (never printing what it returns), asks the API server who the
// credential is and what it may do, and lists the bindings that grant
// access. It returns the facts and, when the credential was accepted, the
// client configuration that presents it, for the rest of the gathering.
func GatherSignIn(ctx context.Context, o SignInOptions) (*SignInFacts, *rest.Config) {
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.PluginTimeout == 0 {
		o.PluginTimeout = DefaultPluginTimeout
	}
	s := &SignInFacts{Kubeconfig: o.Kubeconfig, Run: o.Run}
	raw, err := clientcmd.LoadFromFile(o.Kubeconfig)
	if err != nil {
		s.Err = fmt.Sprintf("load kubeconfig %s: %v", o.Kubeconfig, err)
		return s, nil
	}
	kctx := raw.Contexts[raw.CurrentContext]
	if kctx == nil {
		s.Err = fmt.Sprintf("kubeconfig %s has no current context (%q)", o.Kubeconfig, raw.CurrentContext)
		return s, nil
	}
	s.Context, s.User, s.Cluster = raw.CurrentContext, kctx.AuthInfo, kctx.Cluster
	if c := raw.Clusters[kctx.Cluster]; c != nil {
		s.Server = c.Server
	}
	if o.Namespace == "" {
		o.Namespace = kctx.Namespace
	}
	if o.Namespace == "" {
		o.Namespace = metav1.NamespaceDefault
	}
	auth := raw.AuthInfos[kctx.AuthInfo]
	if auth == nil {
		auth = &clientcmdapi.AuthInfo{}
	}
	switch {
	case auth.AuthProvider != nil:
		s.AuthProvider = auth.AuthProvider.Name
	case auth.Exec != nil:
		s.Exec = execPlugin(auth.Exec, o)
	case len(auth.ClientCertificateData) > 0 || auth.ClientCertificate != "":
		s.ClientCertificate = true
	case auth.Token != "" || auth.TokenFile != "":
		s.Token = true
	}
	if s.AuthProvider != "" || (s.Exec != nil && s.Exec.Path == "") {
		// kubectl cannot present a credential either.
		return s, nil
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		s.Err = fmt.Sprintf("load kubeconfig %s: %v", o.Kubeconfig, err)
		return s, nil
	}
	if s.Exec != nil {
		token, run := runPlugin(ctx, auth.Exec, s.Exec.Path, o.PluginTimeout)
		s.Plugin = &run
		if token == "" {
			return s, nil
		}
		cfg.ExecProvider, cfg.BearerToken = nil, token
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		s.Review = &SignInReview{Err: fmt.Sprintf("create client: %v", err)}
		return s, nil
	}
	s.Review = review(ctx, cs)
	if s.Review.Unauthorized {
		return s, nil
	}
	if s.Review.User == "" {
		return s, cfg
	}
	s.Access = accessReviews(ctx, cs, o.Namespace)
	bindings := cs
	if o.BindingsConfig != nil {
		if bc, err := kubernetes.NewForConfig(o.BindingsConfig); err == nil {
			bindings = bc
		}
	}
	s.Bindings, s.BindingsErr = listBindings(ctx, bindings, o.Namespace, s)
	return s, cfg
}

// execPlugin describes an exec entry: where its command is and how it
// signs in (kubelogin's --login and the variables that override it).
func execPlugin(e *clientcmdapi.ExecConfig, o SignInOptions) *ExecPlugin {
	p := &ExecPlugin{Command: e.Command, InstallHint: e.InstallHint}
	if path, err := o.LookPath(e.Command); err == nil {
		p.Path = path
	}
	for i, a := range e.Args {
		if (a == "--login" || a == "-l") && i+1 < len(e.Args) {
			p.Login = e.Args[i+1]
		} else if v, ok := strings.CutPrefix(a, "--login="); ok {
			p.Login = v
		}
	}
	env := func(name string) string {
		for _, v := range e.Env {
			if v.Name == name {
				return v.Value
			}
		}
		return o.Getenv(name)
	}
	if m := env("AAD_LOGIN_METHOD"); m != "" {
		p.Login = m
	}
	p.ClientID = env("AAD_SERVICE_PRINCIPAL_CLIENT_ID")
	return p
}

// runPlugin runs the exec plugin as client-go would, but told it is not
// interactive and given timeout to answer. It returns the token (never
// to be printed) and what the run showed.
func runPlugin(ctx context.Context, e *clientcmdapi.ExecConfig, path string, timeout time.Duration) (string, PluginRun) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, e.Args...)
	cmd.Env = os.Environ()
	for _, v := range e.Env {
		cmd.Env = append(cmd.Env, v.Name+"="+v.Value)
	}
	info, _ := json.Marshal(map[string]any{"apiVersion": e.APIVersion, "kind": "ExecCredential", "spec": map[string]any{"interactive": false}})
	cmd.Env = append(cmd.Env, "KUBERNETES_EXEC_INFO="+string(info))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A plugin's children may keep the pipes open after it is killed.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	run := PluginRun{Stderr: errorLines(stderr.String()), Prompted: deviceCodePrompt.MatchString(stderr.String())}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		run.TimedOut = true
		run.Err = fmt.Sprintf("no credential within %s", timeout)
		return "", run
	case errors.As(err, &exitErr):
		run.ExitCode = exitErr.ExitCode()
		run.Err = fmt.Sprintf("exit code %d", run.ExitCode)
		return "", run
	case err != nil:
		run.Err = err.Error()
		return "", run
	}
	var cred struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &cred); err != nil || cred.Status.Token == "" {
		run.Err = "it printed no ExecCredential with a token"
		return "", run
	}
	run.GroupsOverage = groupsOverage(cred.Status.Token)
	return cred.Status.Token, run
}

// groupsOverage reports whether a JWT's payload names the groups claim
// among its distributed claims (_claim_names), as Azure AD does in place
// of the groups when a user is in more than 200. The token is only looked
// at, not trusted: the API server decides who it is.
func groupsOverage(token string) bool {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		return false
	}
	names, _ := claims["_claim_names"].(map[string]any)
	_, ok := names["groups"]
	return ok
}

var (
	deviceCodePrompt = regexp.MustCompile(`(?i)enter the code \S+ to authenticate`)
	// jwtLike is anything that may be a token; it never reaches a report.
	jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*`)
)

// maxErrorLines bounds how much of a plugin's stderr a report quotes.
const maxErrorLines = 4

// errorLines are the plugin's stderr lines that say what failed: Azure
// AD's AADSTS codes and error lines, without tokens.
func errorLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(stderr, `\r\n`, "\n"), "\n") {
		l = strings.TrimSpace(l)
		low := strings.ToLower(l)
		if l == "" || !(strings.Contains(l, "AADSTS") || strings.Contains(low, "error") || strings.Contains(low, "failed")) {
			continue
		}
		if len(l) > 300 {
			l = l[:300] + "…"
		}
		out = append(out, jwtLike.ReplaceAllString(l, "[token removed]"))
		if len(out) == maxErrorLines {
			break
		}
	}
	return out
}

// review asks who the credential is.
func review(ctx context.Context, cs kubernetes.Interface) *SignInReview {
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case apierrors.IsUnauthorized(err):
		return &SignInReview{Unauthorized: true, Err: err.Error()}
	case err != nil:
		return &SignInReview{Err: fmt.Sprintf("create SelfSubjectReview: %v", err)}
	}
	return &SignInReview{User: r.Status.UserInfo.Username, Groups: r.Status.UserInfo.Groups}
}

// accessReviews asks whether the user may list pods in the cluster and
// in ns: what kubectl get pods does first.
func accessReviews(ctx context.Context, cs kubernetes.Interface, ns string) []AccessFact {
	var out []AccessFact
	for _, a := range []AccessFact{{Verb: "list", Resource: "pods"}, {Verb: "list", Resource: "pods", Namespace: ns}} {
		r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.Verb, Group: a.Group, Resource: a.Resource, Namespace: a.Namespace},
		}}, metav1.CreateOptions{})
		if err != nil {
			a.Err = fmt.Sprintf("create SelfSubjectAccessReview: %v", err)
		} else {
			a.Allowed, a.Reason = r.Status.Allowed, r.Status.Reason
		}
		out = append(out, a)
	}
	return out
}

// listBindings lists the bindings that matter to s's user: those of
// cluster-admin and those naming the user, its groups or the admin groups.
func listBindings(ctx context.Context, cs kubernetes.Interface, ns string, s *SignInFacts) ([]BindingFact, string) {
	names := map[string]bool{"User " + s.Review.User: true}
	for _, g := range s.Review.Groups {
		if !strings.HasPrefix(g, "system:") {
			names["Group "+g] = true
		}
	}
	if s.Run != nil {
		for _, g := range s.Run.AdminGroups {
			names["Group "+g] = true
		}
	}
	var out []BindingFact
	keep := func(object string, ref rbacv1.RoleRef, subjects []rbacv1.Subject) {
		b := BindingFact{Object: object, Role: ref.Kind + " " + ref.Name}
		matters := ref.Kind == "ClusterRole" && ref.Name == "cluster-admin"
		for _, sub := range subjects {
			name := sub.Kind + " " + sub.Name
			if sub.Kind == rbacv1.ServiceAccountKind {
				name = sub.Kind + " " + key(sub.Namespace, sub.Name)
			}
			b.Subjects = append(b.Subjects, name)
			matters = matters || names[name]
		}
		if matters {
			out = append(out, b)
		}
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Sprintf("could not list ClusterRoleBindings: %v", err)
	}
	for _, b := range crbs.Items {
		keep("ClusterRoleBinding "+b.Name, b.RoleRef, b.Subjects)
	}
	rbs, err := cs.RbacV1().RoleBindings(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return out, fmt.Sprintf("could not list RoleBindings in %s: %v", ns, err)
	}
	for _, b := range rbs.Items {
		keep("RoleBinding "+key(b.Namespace, b.Name), b.RoleRef, b.Subjects)
	}
	slices.SortFunc(out, func(a, b BindingFact) int { return strings.Compare(a.Object, b.Object) })
	return out, ""
}
