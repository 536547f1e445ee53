package tokens

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBody bounds what is read from a token endpoint.
const maxBody = 1 << 20

// Bounds of the upstream error text that reaches logs and pods' answers:
// an AADSTS description with its trace and correlation IDs fits easily; a
// misbehaving upstream's megabyte does not travel further.
const (
	maxCode        = 64
	maxDescription = 2048
)

// truncate cuts s to at most n bytes on a rune boundary, saying how much
// was cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

// tokenResponse is the union of the IMDS and AAD v2 token bodies. IMDS
// sends every value as a string, AAD numbers; flexInt takes both.
type tokenResponse struct {
	AccessToken      string  `json:"access_token"`
	ClientID         string  `json:"client_id"`
	ExpiresIn        flexInt `json:"expires_in"`
	ExpiresOn        flexInt `json:"expires_on"`
	NotBefore        flexInt `json:"not_before"`
	Resource         string  `json:"resource"`
	TokenType        string  `json:"token_type"`
	Error            string  `json:"error"`
	ErrorDescription string  `json:"error_description"`
}

// flexInt is an integer sent as a JSON number or string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt(n)
		return nil
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil {
		*f = flexInt(x)
		return nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*f = flexInt(t.Unix())
		return nil
	}
	return fmt.Errorf("parse %q as a number or time", s)
}

// readToken turns a token endpoint answer into a Token or an *Error.
// clientID and resource fill in what the body leaves out.
func readToken(resp *http.Response, now time.Time, clientID, resource string) (Token, error) {
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Token{}, fmt.Errorf("read token response: %w", err)
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(b, &tr)
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode, Code: truncate(tr.Error, maxCode), Description: tr.ErrorDescription}
		if jsonErr != nil || e.Code == "" {
			e.Description = strings.TrimSpace(string(b))
		}
		e.Description = truncate(e.Description, maxDescription)
		return Token{}, e
	}
	if jsonErr != nil {
		return Token{}, fmt.Errorf("decode token response: %w", jsonErr)
	}
	if tr.AccessToken == "" {
		return Token{}, fmt.Errorf("token response has no access_token")
	}
	tok := Token{AccessToken: tr.AccessToken, Resource: tr.Resource, ClientID: tr.ClientID, TokenType: tr.TokenType}
	switch {
	case tr.ExpiresOn > 0:
		tok.ExpiresOn = time.Unix(int64(tr.ExpiresOn), 0)
	case tr.ExpiresIn > 0:
		tok.ExpiresOn = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	default:
		return Token{}, fmt.Errorf("token response has neither expires_on nor expires_in")
	}
	if tr.NotBefore > 0 {
		tok.NotBefore = time.Unix(int64(tr.NotBefore), 0)
	}
	if tok.Resource == "" {
		tok.Resource = resource
	}
	if tok.ClientID == "" {
		tok.ClientID = clientID
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	return tok, nil
}

// exchange sends a token request and reads the answer.
func exchange(c *http.Client, hr *http.Request, now func() time.Time, req Request) (Token, error) {
	resp, err := c.Do(hr)
	if err != nil {
		return Token{}, err
	}
	return readToken(resp, now(), req.Identity.ClientID, req.Resource)
}
