package cloud

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	cliup "github.com/podid/podid/internal/cli/up"
	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan"
	"github.com/podid/podid/internal/plan/runstate"
)

// TargetOptions find a running embedded cloud: the one of a podid up run
// (--state-dir) or one started with podid cloud serve (--cloud-url and
// --cloud-ca).
type TargetOptions struct {
	StateDir        string
	CloudURL        string
	CloudCA         string
	CloudAdminToken string
}

// AddFlags binds the options to fs.
func (o *TargetOptions) AddFlags(fs *pflag.FlagSet) {
	cliup.AddStateDirFlag(fs, &o.StateDir)
	fs.StringVar(&o.CloudURL, "cloud-url", o.CloudURL, "Base URL of an embedded cloud started with podid cloud serve; overrides --state-dir.")
	fs.StringVar(&o.CloudCA, "cloud-ca", o.CloudCA, "CA bundle of --cloud-url (ca.pem in its --data-dir).")
	fs.StringVar(&o.CloudAdminToken, "cloud-admin-token", o.CloudAdminToken, "File holding the admin token of --cloud-url; empty reads admin-token beside --cloud-ca.")
}

// adminTimeout bounds one admin request.
const adminTimeout = 10 * time.Second

// admin talks to the embedded cloud's /admin endpoints.
type admin struct {
	base  string
	token string
	hc    *http.Client
}

func newAdmin(o TargetOptions) (*admin, error) {
	url, ca, tokenFile := o.CloudURL, o.CloudCA, o.CloudAdminToken
	if url == "" {
		rec, err := runstate.Read(plan.RecordFile(o.StateDir))
		if err != nil || !runstate.Alive(rec.Supervisor) || !rec.Ready {
			return nil, fmt.Errorf("no running podid up in %s: start one with podid up, or name a cloud with --cloud-url and --cloud-ca", o.StateDir)
		}
		url, ca = rec.CloudURL, rec.CloudCA
	}
	if ca == "" {
		return nil, errors.New("--cloud-ca is required with --cloud-url")
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("read cloud CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cloud CA %s holds no PEM certificate", ca)
	}
	if tokenFile == "" {
		tokenFile = filepath.Join(filepath.Dir(ca), "admin-token")
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("read the cloud's admin token (--cloud-admin-token): %w", err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &admin{base: strings.TrimRight(url, "/"), token: strings.TrimSpace(string(token)),
		hc: &http.Client{Transport: tr, Timeout: adminTimeout}}, nil
}

// connect finds the cloud and reads its state, to resolve names.
func connect(ctx context.Context, o TargetOptions) (*admin, embedded.State, error) {
	a, err := newAdmin(o)
	if err != nil {
		return nil, embedded.State{}, err
	}
	st, err := a.state(ctx)
	if err != nil {
		return nil, embedded.State{}, fmt.Errorf("read the cloud's state: %w", err)
	}
	return a, st, nil
}

// state returns the cloud's whole state.
func (a *admin) state(ctx context.Context) (embedded.State, error) {
	var st embedded.State
	err := a.do(ctx, http.MethodGet, "/admin/state", nil, &st)
	return st, err
}

// do sends body as JSON and decodes the answer into out; an answer other
// than 2xx becomes an error carrying the cloud's message.
func (a *admin) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}
