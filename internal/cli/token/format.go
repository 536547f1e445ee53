package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Output formats.
const (
	OutputClaims = "claims"
	OutputJSON   = "json"
	OutputRaw    = "raw"
)

// redacted replaces the token in -o json.
const redacted = "(redacted; -o raw prints it)"

// format renders an IMDS token response body as output asks.
func format(body []byte, output string) (string, error) {
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		return "", fmt.Errorf("decode token response: %w", err)
	}
	tok, _ := resp["access_token"].(string)
	if tok == "" {
		return "", errors.New("the token response has no access_token")
	}
	switch output {
	case OutputRaw:
		return tok + "\n", nil
	case OutputJSON:
		resp["access_token"] = redacted
		return indent(resp)
	case OutputClaims:
		claims, err := Claims(tok)
		if err != nil {
			return "", err
		}
		return indent(claims)
	}
	return "", fmt.Errorf("-o %q: want claims, json or raw", output)
}

// Claims decodes a JWT's payload without checking its signature.
func Claims(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the access token is not a JWT (%d parts)", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode JWT payload: %w", err)
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("decode JWT claims: %w", err)
	}
	return claims, nil
}

func indent(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode output: %w", err)
	}
	return string(b) + "\n", nil
}
