package faults

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	loadEnv = "PODID_FAULTS_LOAD"
	imdsEnv = "PODID_FAULTS_IMDS"
	// loadInterval is how often the pod asks for a token.
	loadInterval = 20 * time.Millisecond
	// loadTimeout bounds one token call.
	loadTimeout = 2 * time.Second
	imdsBody    = "node IMDS answer"
	tokenURL    = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
)

// Kinds of result of one token call.
const (
	kindToken   = "token"   // 200 with an access token
	kindRefused = "refused" // connection refused: RST to the SYN
	kindReset   = "reset"   // connection reset once established
	kindTimeout = "timeout"
	kindStatus  = "status" // an HTTP answer without a token: status-<code>
	kindOther   = "other"
)

// runLoad is the pod's application: every loadInterval, one after the
// other, it calls the token endpoint with a new connection each time
// (keep-alive off, so every call goes through the rules afresh) and prints
// "R <start unix ns> <end unix ns> <kind>" per call, until stdin closes.
func runLoad() int {
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	hc := &http.Client{Timeout: loadTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	out := bufio.NewWriter(os.Stdout)
	defer func() { _ = out.Flush() }()
	next := time.Now()
	for {
		select {
		case <-done:
			return 0
		case <-time.After(time.Until(next)):
		}
		next = next.Add(loadInterval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		start := time.Now()
		kind := call(hc)
		fmt.Fprintf(out, "R %d %d %s\n", start.UnixNano(), time.Now().UnixNano(), kind)
		_ = out.Flush()
	}
}

func call(hc *http.Client) string {
	req, _ := http.NewRequest(http.MethodGet, tokenURL, nil)
	req.Header.Set("Metadata", "true")
	resp, err := hc.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return kindReset
	case err != nil:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return kindTimeout
		}
		return kindOther
	}
	defer func() { _ = resp.Body.Close() }()
	var answer struct {
		AccessToken string `json:"access_token"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &answer) == nil && answer.AccessToken != "" {
		return kindToken
	}
	return kindStatus + "-" + strconv.Itoa(resp.StatusCode)
}

// result is one token call of the load loop.
type result struct {
	start, end time.Time
	kind       string
}

// results collects the load loop's lines as they come.
type results struct {
	mu  sync.Mutex
	all []result
}

func (r *results) collect(lines <-chan string) {
	for l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "R" {
			continue
		}
		s, _ := strconv.ParseInt(f[1], 10, 64)
		e, _ := strconv.ParseInt(f[2], 10, 64)
		r.mu.Lock()
		r.all = append(r.all, result{start: time.Unix(0, s), end: time.Unix(0, e), kind: f[3]})
		r.mu.Unlock()
	}
}

func (r *results) snapshot() []result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]result(nil), r.all...)
}

// tokenAfter says whether a call that started after t got a token.
func (r *results) tokenAfter(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.all) - 1; i >= 0 && r.all[i].start.After(t); i-- {
		if r.all[i].kind == kindToken {
			return true
		}
	}
	return false
}

// runIMDS stands in for the node's real IMDS: it answers every request
// with imdsBody and prints "HIT <unix ns> <remote> <path>" per request.
func runIMDS() int {
	ln, err := net.Listen("tcp", "169.254.169.254:80")
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println("ready")
	var mu sync.Mutex
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fmt.Println("HIT", time.Now().UnixNano(), r.RemoteAddr, r.URL.Path)
		mu.Unlock()
		fmt.Fprint(w, imdsBody)
	}))
	fmt.Println("serve:", err)
	return 1
}
