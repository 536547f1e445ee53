package token

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/kubeclient"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// NewCommand returns `podid token`.
func NewCommand(ctx context.Context) *cobra.Command {
	o := NewOptions()
	cmd := &cobra.Command{
		Use:   "token --pod NAMESPACE/NAME --resource URI",
		Short: "Get a token as a pod would, from its node agent, and print its claims",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return run(ctx, o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// target is where and as whom to ask.
type target struct {
	agent string // host:port of the pod's node agent
	podIP string
	// unlabelled pods are selected by no binding: a 503 "not assigned
	// yet" cannot turn into a token, so it is not retried.
	unlabelled bool
	// cfg reaches the cluster, to explain a missing token.
	cfg *rest.Config
}

// noTokenYetError is a wait for the token that used up --timeout.
type noTokenYetError struct{ msg string }

func (e *noTokenYetError) Error() string { return e.msg }

func run(ctx context.Context, o *Options, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	t, err := find(ctx, o)
	if err != nil {
		return err
	}
	body, err := ask(ctx, t, o)
	if e := (*noTokenYetError)(nil); errors.As(err, &e) {
		ns, name, _ := strings.Cut(o.Pod, "/")
		if why := explainAssignments(t.cfg, ns, name); why != "" {
			return fmt.Errorf("%w\n%s", err, why)
		}
	}
	if err != nil {
		return err
	}
	text, err := format(body, o.Output)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, text)
	return err
}

// find looks up the pod's IP and its node's agent.
func find(ctx context.Context, o *Options) (target, error) {
	kubeconfig, agents := o.Kubeconfig, map[string]string(nil)
	if kubeconfig == "" {
		rec, err := runstate.Read(plan.RecordFile(o.StateDir))
		if err != nil || !runstate.Alive(rec.Supervisor) || !rec.Ready {
			return target{}, fmt.Errorf("no running podid up in %s: start one with podid up, or name another cluster with --kubeconfig", o.StateDir)
		}
		kubeconfig, agents = rec.Kubeconfig, rec.Agents
	}
	cfg, err := kubeclient.Config(kubeconfig)
	if err != nil {
		return target{}, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return target{}, fmt.Errorf("create clientset: %w", err)
	}
	ns, name, _ := strings.Cut(o.Pod, "/")
	pod, err := kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return target{}, fmt.Errorf("get pod %s: %w", o.Pod, err)
	}
	if pod.Spec.HostNetwork {
		return target{}, fmt.Errorf("pod %s uses the host network; node agents serve no identity to it", o.Pod)
	}
	if pod.Status.PodIP == "" || pod.Spec.NodeName == "" {
		return target{}, fmt.Errorf("pod %s has no IP or node yet (phase %s)", o.Pod, pod.Status.Phase)
	}
	agent := agents[pod.Spec.NodeName]
	if agent == "" {
		node, err := kube.CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			return target{}, fmt.Errorf("get node %s of pod %s: %w", pod.Spec.NodeName, o.Pod, err)
		}
		ip := internalIP(node)
		if ip == "" {
			return target{}, fmt.Errorf("node %s has no InternalIP to reach its agent at", node.Name)
		}
		agent = net.JoinHostPort(ip, strconv.Itoa(o.AgentPort))
	}
	_, labelled := pod.Labels[podidv1.SelectorLabel]
	return target{agent: agent, podIP: pod.Status.PodIP, unlabelled: !labelled, cfg: cfg}, nil
}

func internalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// ask requests the token from the pod's IP, retrying the agent's 503 and
// 429 answers (the identity is not assigned yet) until ctx ends.
func ask(ctx context.Context, t target, o *Options) ([]byte, error) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(t.podIP)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {o.Resource}}
	if o.ClientID != "" {
		q.Set("client_id", o.ClientID)
	}
	u := "http://" + t.agent + "/metadata/identity/oauth2/token?" + q.Encode()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Metadata", "true")
		resp, err := hc.Do(req)
		if err != nil && ctx.Err() != nil {
			return nil, &noTokenYetError{fmt.Sprintf("no token for pod %s within --timeout %s: the node agent at %s was still waiting for the identity to be assigned", o.Pod, o.Timeout, t.agent)}
		}
		if err != nil {
			return nil, fmt.Errorf("ask the node agent at %s as pod %s (%s): %w", t.agent, o.Pod, t.podIP, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read the agent's answer: %w", err)
		}
		if resp.StatusCode == http.StatusOK {
			return body, nil
		}
		if t.unlabelled && resp.StatusCode == http.StatusServiceUnavailable {
			return nil, fmt.Errorf("pod %s has no %s label, so no AzureIdentityBinding selects it; the node agent at %s answered %s: %s", o.Pod, podidv1.SelectorLabel, t.agent, resp.Status, strings.TrimSpace(string(body)))
		}
		if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
			return nil, fmt.Errorf("the node agent at %s refused pod %s: %s: %s", t.agent, o.Pod, resp.Status, strings.TrimSpace(string(body)))
		}
		wait := retryAfter(resp.Header.Get("Retry-After"))
		select {
		case <-ctx.Done():
			return nil, &noTokenYetError{fmt.Sprintf("no token for pod %s within --timeout %s: last answer %s: %s", o.Pod, o.Timeout, resp.Status, strings.TrimSpace(string(body)))}
		case <-time.After(wait):
		}
	}
}

// retryAfter reads whole seconds, at least 100ms and at most 5s.
func retryAfter(h string) time.Duration {
	d := 500 * time.Millisecond
	if s, err := strconv.Atoi(h); err == nil {
		d = time.Duration(s) * time.Second
	}
	return min(max(d, 100*time.Millisecond), 5*time.Second)
}
