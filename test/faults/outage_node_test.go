package faults

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	podidv1 "github.com/podid/podid/api/v1"
	"github.com/podid/podid/internal/testenv"
)

// nodeCommands are the node side's commands for the outage test, beyond
// runNode's own. Each prints one "DONE ..." or "FAILED ..." line.
//
//	apiserver-stop, etcd-stop     stop it: "DONE <unix ns>" once it is gone
//	apiserver-start, etcd-start   start it again where it was: "DONE <unix ns>"
//	                              once the apiserver is ready
//	pods-create <prefix> <from> <n>  create labelled pods <prefix>-<i>
//	pods-delete <prefix> <from> <n>  delete them
//	late <name>                   create a labelled pod, wait for its IP:
//	                              "DONE <ip>"
//	converge <timeout>            wait until the assignments are exactly what
//	                              the pods call for: "DONE <unix ns> <tally>"
//	probes-start                  sample the agent's /healthz and /readyz
//	                              every probeEvery from now on
//	probes                        "DONE <samples> <healthz ok> <readyz ok>
//	                              <first other readyz answer, or ->" since the
//	                              last call
var nodeCommands = map[string]func(n *node, ctx context.Context, args []string){
	"apiserver-stop": func(n *node, _ context.Context, _ []string) {
		n.env.ControlPlane.StopAPIServer()
		fmt.Println("DONE", time.Now().UnixNano())
	},
	"apiserver-start": func(n *node, ctx context.Context, _ []string) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := n.env.ControlPlane.StartAPIServer(ctx); err != nil {
			fmt.Println("FAILED", oneLine(err))
			return
		}
		fmt.Println("DONE", time.Now().UnixNano())
	},
	"etcd-stop": func(n *node, _ context.Context, _ []string) {
		n.env.ControlPlane.StopEtcd()
		fmt.Println("DONE", time.Now().UnixNano())
	},
	"etcd-start": func(n *node, ctx context.Context, _ []string) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := n.env.ControlPlane.StartEtcd(ctx); err != nil {
			fmt.Println("FAILED", oneLine(err))
			return
		}
		fmt.Println("DONE", time.Now().UnixNano())
	},
	"pods-create":  func(n *node, ctx context.Context, args []string) { n.podRange(ctx, args, true) },
	"pods-delete":  func(n *node, ctx context.Context, args []string) { n.podRange(ctx, args, false) },
	"late":         (*node).latePod,
	"converge":     (*node).converge,
	"probes-start": func(n *node, ctx context.Context, _ []string) { agentProbes.start(ctx); fmt.Println("DONE") },
	"probes":       func(*node, context.Context, []string) { fmt.Println("DONE", agentProbes.take()) },
}

// labelledPod is a pod of appNS on the node that the test's binding
// selects.
func (n *node) labelledPod(name string) *corev1.Pod {
	return testenv.Pod(testenv.PodSpec{Namespace: appNS, Name: name, Node: n.env.Nodes[0].Name,
		Labels: map[string]string{podidv1.SelectorLabel: "app"}})
}

// podRange creates or deletes pods <prefix>-<from>..<prefix>-<from+n-1>.
func (n *node) podRange(ctx context.Context, args []string, create bool) {
	if len(args) != 3 {
		fmt.Println("FAILED want <prefix> <from> <n>, got", args)
		return
	}
	from, err1 := strconv.Atoi(args[1])
	count, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		fmt.Println("FAILED bad range", args)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var pods []*corev1.Pod
	for i := from; i < from+count; i++ {
		pods = append(pods, n.labelledPod(fmt.Sprintf("%s-%d", args[0], i)))
	}
	if create {
		if err := n.env.CreatePods(ctx, pods, 4); err != nil {
			fmt.Println("FAILED", oneLine(err))
			return
		}
		fmt.Println("DONE")
		return
	}
	for _, p := range pods {
		if err := n.env.Kube.CoreV1().Pods(appNS).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			fmt.Println("FAILED", oneLine(fmt.Errorf("delete pod %s/%s: %w", appNS, p.Name, err)))
			return
		}
	}
	fmt.Println("DONE")
}

// latePod creates one labelled pod and answers with the IP kwok gives it.
func (n *node) latePod(ctx context.Context, args []string) {
	if len(args) != 1 {
		fmt.Println("FAILED want <name>")
		return
	}
	kube := n.env.Kube.CoreV1().Pods(appNS)
	if _, err := kube.Create(ctx, n.labelledPod(args[0]), metav1.CreateOptions{}); err != nil {
		fmt.Println("FAILED", oneLine(fmt.Errorf("create pod %s/%s: %w", appNS, args[0], err)))
		return
	}
	var ip string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := kube.Get(ctx, args[0], metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ip = p.Status.PodIP
		return ip != "", nil
	})
	if err != nil {
		fmt.Println("FAILED", oneLine(fmt.Errorf("pod %s got no IP: %w", args[0], err)))
		return
	}
	fmt.Println("DONE", ip)
}

// converge polls the pods and assignments until their tally is converged,
// and answers with the moment it first was and the tally; on timeout it
// fails with the last tally.
func (n *node) converge(ctx context.Context, args []string) {
	timeout, err := time.ParseDuration(strings.Join(args, ""))
	if err != nil {
		fmt.Println("FAILED converge timeout:", err)
		return
	}
	var last tally
	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var pods corev1.PodList
		if lastErr = n.env.Client.List(ctx, &pods); lastErr != nil {
			return false, nil
		}
		var assigned podidv1.AzureAssignedIdentityList
		if lastErr = n.env.Client.List(ctx, &assigned); lastErr != nil {
			return false, nil
		}
		last = tallyAssignments(pods.Items, assigned.Items, n.env.Nodes[0].Name)
		return last.converged(), nil
	})
	if err != nil {
		fmt.Println("FAILED", "assignments not converged within", timeout, "last list error:", lastErr, "tally:", last)
		return
	}
	fmt.Println("DONE", time.Now().UnixNano(), last)
}

// probeEvery is how often the agent's probes are sampled.
const probeEvery = 500 * time.Millisecond

// probeTally counts the agent's probe answers on the node side.
type probeTally struct {
	mu                      sync.Mutex
	started                 bool
	samples, healthz, ready int
	// firstOther is the first /readyz answer other than 200 since the
	// last take.
	firstOther string
}

var agentProbes probeTally

func (p *probeTally) start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	hc := &http.Client{Timeout: time.Second}
	base := "http://" + net.JoinHostPort(nodeIP.String(), probePort)
	get := func(path string) (int, string) {
		resp, err := hc.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	go func() {
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			hs, _ := get("/healthz")
			rs, rb := get("/readyz")
			p.mu.Lock()
			p.samples++
			if hs == http.StatusOK {
				p.healthz++
			}
			if rs == http.StatusOK {
				p.ready++
			} else if p.firstOther == "" {
				p.firstOther = strconv.Quote(fmt.Sprintf("%d %s", rs, rb))
			}
			p.mu.Unlock()
		}
	}()
}

// take returns "<samples> <healthz ok> <readyz ok> <first other readyz>"
// and starts counting afresh.
func (p *probeTally) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	other := p.firstOther
	if other == "" {
		other = "-"
	}
	out := fmt.Sprintf("%d %d %d %s", p.samples, p.healthz, p.ready, other)
	p.samples, p.healthz, p.ready, p.firstOther = 0, 0, 0, ""
	return out
}

// oneLine keeps an error on the one line the test reads.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
