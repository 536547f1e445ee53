package acrcred

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// Credentials answers the kubelet for image: NotACR for another registry,
// else a refresh token for the image's ACR (or the ACR mirroring its
// registry). A failure is a *Failure whose text holds the cause and fix.
func (c *Client) Credentials(ctx context.Context, image string) (*credv1.CredentialProviderResponse, error) {
	target, ok, err := TargetOf(image, c.mirrors, c.suffixes)
	if err != nil {
		return nil, err
	}
	if !ok {
		return NotACR(), nil
	}
	rt, exp, oid, err := c.RefreshToken(ctx, target.LoginServer)
	if err != nil {
		im, _ := ParseImage(image)
		return nil, &Failure{Err: err, Finding: Explain(err, c.facts(target.LoginServer, im, oid))}
	}
	// Options.CacheDuration caps the answer; 0 turns the kubelet's cache off.
	ttl := min(CacheDuration(exp, c.now()), c.opts.CacheDuration)
	return Credentials(target, rt, ttl, c.opts.AnonymousEntry), nil
}

// Failure is a provider error with its explanation.
type Failure struct {
	Err     error
	Finding Finding
}

func (f *Failure) Error() string {
	s := f.Err.Error()
	if f.Finding.Cause != "" {
		s += "\ncause: " + f.Finding.Cause
	}
	if f.Finding.Fix != "" {
		s += "\nfix: " + f.Finding.Fix
	}
	return s
}

func (f *Failure) Unwrap() error { return f.Err }

// DecodeRequest reads the kubelet's CredentialProviderRequest and checks
// its version and image.
func DecodeRequest(r io.Reader) (credv1.CredentialProviderRequest, error) {
	var req credv1.CredentialProviderRequest
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("decode CredentialProviderRequest from stdin: %w (the kubelet writes one JSON object)", err)
	}
	if req.APIVersion != APIVersion {
		return req, fmt.Errorf("request apiVersion %q is not supported; set apiVersion %s in the kubelet's credential provider config", req.APIVersion, APIVersion)
	}
	if req.Kind != "" && req.Kind != "CredentialProviderRequest" {
		return req, fmt.Errorf("request kind %q is not CredentialProviderRequest", req.Kind)
	}
	if strings.TrimSpace(req.Image) == "" {
		return req, errors.New("request image is empty; the kubelet names the image being pulled")
	}
	return req, nil
}

// Serve is one kubelet exec: request on in, response on out.
func (c *Client) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	req, err := DecodeRequest(in)
	if err != nil {
		return err
	}
	resp, err := c.Credentials(ctx, req.Image)
	if err != nil {
		return fmt.Errorf("get credentials for image %s: %w", req.Image, err)
	}
	if err := json.NewEncoder(out).Encode(resp); err != nil {
		return fmt.Errorf("write CredentialProviderResponse: %w", err)
	}
	return nil
}
