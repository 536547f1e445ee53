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

// Settings of one load loop, for tests that vary it.
const (
	// loadTimeoutEnv, a Go duration, replaces loadTimeout: a caller the
	// agent does not know waits for its assignment wait (2s) first.
	loadTimeoutEnv = "PODID_FAULTS_LOAD_TIMEOUT"
	// loadDetailEnv makes runLoad also print, for each HTTP answer without
	// a token, "D <start unix ns> <status> <Retry-After or -> <error_description>".
	loadDetailEnv = "PODID_FAULTS_LOAD_DETAIL"
	// loadIntervalEnv, a Go duration, replaces loadInterval.
	loadIntervalEnv = "PODID_FAULTS_LOAD_INTERVAL"
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
	timeout := loadTimeout
	if v := os.Getenv(loadTimeoutEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", loadTimeoutEnv, err)
			return 2
		}
		timeout = d
	}
	interval := loadInterval
	if v := os.Getenv(loadIntervalEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", loadIntervalEnv, err)
			return 2
		}
		interval = d
	}
	detail := os.Getenv(loadDetailEnv) != ""
	hc := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	out := bufio.NewWriter(os.Stdout)
	defer func() { _ = out.Flush() }()
	next := time.Now()
	for {
		select {
		case <-done:
			return 0
		case <-time.After(time.Until(next)):
		}
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		start := time.Now()
		kind, ans := callDetail(hc)
		fmt.Fprintf(out, "R %d %d %s\n", start.UnixNano(), time.Now().UnixNano(), kind)
		if detail && ans.status != 0 && kind != kindToken {
			fmt.Fprintf(out, "D %d %d %s %s\n", start.UnixNano(), ans.status, ans.retryAfter, ans.description)
		}
		_ = out.Flush()
	}
}

func call(hc *http.Client) string {
	kind, _ := callDetail(hc)
	return kind
}

// answer is what an HTTP answer said; status 0 when there was none.
type answer struct {
	status int
	// retryAfter is the Retry-After header, "-" when absent.
	retryAfter string
	// description is the IMDS error body's error_description, on one line.
	description string
}

func callDetail(hc *http.Client) (string, answer) {
	req, _ := http.NewRequest(http.MethodGet, tokenURL, nil)
	req.Header.Set("Metadata", "true")
	resp, err := hc.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused, answer{}
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return kindReset, answer{}
	case err != nil:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return kindTimeout, answer{}
		}
		return kindOther, answer{}
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		AccessToken string `json:"access_token"`
		Description string `json:"error_description"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	parsed := json.Unmarshal(raw, &body) == nil
	if resp.StatusCode == http.StatusOK && parsed && body.AccessToken != "" {
		return kindToken, answer{status: resp.StatusCode}
	}
	ans := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), description: strings.Join(strings.Fields(body.Description), " ")}
	if ans.retryAfter == "" {
		ans.retryAfter = "-"
	}
	return kindStatus + "-" + strconv.Itoa(resp.StatusCode), ans
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
