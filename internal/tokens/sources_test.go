package tokens

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	v1 "github.com/podid/podid/api/v1"
)

const (
	testClientID = "7eb6a1c2-0000-4000-8000-00000000a6a9"
	testResID    = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a"
)

func TestIMDSSource(t *testing.T) {
	cases := map[string]struct {
		id         Identity
		body       string
		status     int
		wantQuery  string // query parameter the request must carry
		wantExpiry int64  // Unix seconds; 0 when an error is expected
		wantStatus int    // upstream status carried by the error
	}{
		"a managed identity is named by msi_res_id and string times are read": {
			id: Identity{Name: "ns/a", ClientID: testClientID, ResourceID: testResID}, wantQuery: "msi_res_id=" + testResID,
			body:       `{"access_token":"x","client_id":"c","expires_in":"3599","expires_on":"1760003599","ext_expires_in":"3599","not_before":"1760000000","resource":"r","token_type":"Bearer"}`,
			wantExpiry: 1760003599},
		"an identity without resource ID is named by client_id and numeric times are read": {
			id: Identity{Name: "ns/a", ClientID: testClientID}, wantQuery: "client_id=" + testClientID,
			body: `{"access_token":"x","expires_in":3600,"resource":"r","token_type":"Bearer"}`, wantExpiry: 1760003600},
		"an IMDS refusal carries its status": {
			id: Identity{Name: "ns/a", ClientID: testClientID}, wantQuery: "client_id=" + testClientID, status: 400,
			body: `{"error":"invalid_request","error_description":"Identity not found"}`, wantStatus: 400},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/metadata/identity/oauth2/token" || r.Header.Get("Metadata") != "true" ||
					r.URL.Query().Get("api-version") != "2018-02-01" || r.URL.Query().Get("resource") != "https://vault.azure.net" {
					http.Error(w, "bad request "+r.URL.String(), 418)
					return
				}
				k, v, _ := strings.Cut(tc.wantQuery, "=")
				if r.URL.Query().Get(k) != v {
					http.Error(w, "want "+tc.wantQuery, 418)
					return
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			src, err := NewIMDS(IMDSOptions{Endpoint: srv.URL, Client: srv.Client(), Now: func() time.Time { return t0 }})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := src.Token(context.Background(), Request{Identity: tc.id, Resource: "https://vault.azure.net"})
			if tc.wantStatus != 0 {
				if StatusOf(err) != tc.wantStatus {
					t.Fatalf("error %v, want upstream status %d", err, tc.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "x" || tok.ExpiresOn.Unix() != tc.wantExpiry || tok.TokenType != "Bearer" {
				t.Fatalf("token %+v", tok)
			}
		})
	}
}

// fakeAAD is a v2 token endpoint on TLS that checks the grant with check.
func fakeAAD(t *testing.T, check func(r *http.Request) string) (*httptest.Server, AADOptions) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/tenant-1/oauth2/v2.0/token" || r.ParseForm() != nil ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != testClientID ||
			r.PostForm.Get("scope") != "https://vault.azure.net/.default" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"AADSTS900144: bad request"}`))
			return
		}
		if desc := check(r); desc != "" {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"` + desc + `"}`))
			return
		}
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"aad-token"}`))
	}))
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, AADOptions{AuthorityHost: srv.URL, TenantID: "tenant-1", Client: NewHTTPSClient(pool), Now: func() time.Time { return t0 }}
}

func aadRequest() Request {
	return Request{Identity: Identity{Name: "ns/sp", ClientID: testClientID}, Resource: "https://vault.azure.net"}
}

func TestClientSecretSource(t *testing.T) {
	_, opts := fakeAAD(t, func(r *http.Request) string {
		if r.PostForm.Get("client_secret") != "s3cret" {
			return "AADSTS7000215: Invalid client secret provided."
		}
		return ""
	})
	for secret, wantErr := range map[string]bool{"s3cret": false, "wrong": true} {
		src, err := NewClientSecret(opts, func(context.Context, Identity) (string, error) { return secret, nil })
		if err != nil {
			t.Fatal(err)
		}
		tok, err := src.Token(context.Background(), aadRequest())
		if wantErr {
			if !Permanent(err) || !strings.Contains(err.Error(), "AADSTS7000215") {
				t.Fatalf("error %v, want a permanent AADSTS7000215", err)
			}
			continue
		}
		if err != nil || tok.AccessToken != "aad-token" || tok.ExpiresOn != t0.Add(3599*time.Second) || tok.Resource != "https://vault.azure.net" {
			t.Fatalf("token %+v, %v", tok, err)
		}
	}
}

func TestCertificateSourceSignsAnAssertionAADCanVerify(t *testing.T) {
	chain, key := selfSigned(t)
	_, opts := fakeAAD(t, func(r *http.Request) string {
		if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return "AADSTS7000216: client_assertion_type missing"
		}
		return verifyAssertion(r.PostForm.Get("client_assertion"), chain[0], "https://"+r.Host+r.URL.Path)
	})
	src, err := NewCertificate(opts, func(context.Context, Identity) ([]*x509.Certificate, *rsa.PrivateKey, error) {
		return chain, key, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := src.Token(context.Background(), aadRequest()); err != nil || tok.AccessToken != "aad-token" {
		t.Fatalf("token %+v, %v", tok, err)
	}
}

func TestFederatedSourceExchangesTheServiceAccountToken(t *testing.T) {
	calls := 0
	_, opts := fakeAAD(t, func(r *http.Request) string {
		if r.PostForm.Get("client_assertion") != "sa-token-"+string(rune('0'+calls)) {
			return "AADSTS70021: No matching federated identity record found"
		}
		return ""
	})
	src, err := NewFederated(opts, func(context.Context) (string, error) {
		calls++
		return "sa-token-" + string(rune('0'+calls)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a fresh assertion each time
		if tok, err := src.Token(context.Background(), aadRequest()); err != nil || tok.AccessToken != "aad-token" {
			t.Fatalf("token %+v, %v", tok, err)
		}
	}
}

func TestAADSourcesRefusePlainHTTPAuthorities(t *testing.T) {
	if _, err := NewFederated(AADOptions{AuthorityHost: "http://127.0.0.1:1"}, func(context.Context) (string, error) { return "", nil }); err == nil {
		t.Fatal("http authority accepted")
	}
}

func TestRoute(t *testing.T) {
	node, secret, cert, fed := TokenSourceFunc(nil), TokenSourceFunc(nil), TokenSourceFunc(nil), TokenSourceFunc(nil)
	o := RouterOptions{Default: ModeNode, Node: node, Secret: secret, Certificate: cert, Federated: fed}
	cases := map[string]struct {
		def  Mode
		id   Identity
		want string
	}{
		"a managed identity in node mode asks the node's IMDS":      {def: ModeNode, id: Identity{Type: v1.UserAssignedMSI}, want: "node IMDS"},
		"a secret service principal in node mode uses its secret":   {def: ModeNode, id: Identity{Type: v1.ServicePrincipal}, want: "client secret"},
		"a certificate service principal uses its certificate":      {def: ModeNode, id: Identity{Type: v1.ServicePrincipalCertificate}, want: "certificate"},
		"a managed identity in a federated cluster is exchanged":    {def: ModeFederated, id: Identity{Type: v1.UserAssignedMSI}, want: "federated"},
		"an identity's own node mode overrides a federated cluster": {def: ModeFederated, id: Identity{Type: v1.UserAssignedMSI, Mode: ModeNode}, want: "node IMDS"},
		"an identity's own federated mode overrides a node cluster": {def: ModeNode, id: Identity{Type: v1.ServicePrincipal, Mode: ModeFederated}, want: "federated"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o.Default = tc.def
			if _, got := route(o, tc.id); got != tc.want {
				t.Fatalf("route %q, want %q", got, tc.want)
			}
		})
	}
}

func selfSigned(t *testing.T) ([]*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	chain, parsed, err := ParseCertificatePEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	return chain, parsed
}

// verifyAssertion checks an RS256 client assertion as AAD would; it
// returns "" when valid.
func verifyAssertion(jwt string, cert *x509.Certificate, aud string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "AADSTS50027: malformed assertion"
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) != nil {
		return "AADSTS700027: signature invalid"
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct{ Aud, Iss, Sub string }
	if json.Unmarshal(raw, &c) != nil || c.Aud != aud || c.Iss != testClientID || c.Sub != testClientID {
		return "AADSTS700024: bad claims " + string(raw)
	}
	return ""
}

// TestUpstreamErrorTextIsBounded: what an upstream says in refusing a token
// reaches logs and pods' answers, so a huge body is cut to a bound.
func TestUpstreamErrorTextIsBounded(t *testing.T) {
	for name, body := range map[string]string{
		"a JSON error with a huge description": `{"error":"invalid_client","error_description":"` + strings.Repeat("é", 1<<19) + `"}`,
		"a huge non-JSON body":                 strings.Repeat("x", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			resp := &http.Response{StatusCode: http.StatusBadRequest, Body: io.NopCloser(strings.NewReader(body))}
			_, err := readToken(resp, time.Now(), "client", "https://vault.azure.net")
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if n := len(err.Error()); n > maxDescription+maxCode+200 {
				t.Fatalf("error text is %d bytes long", n)
			}
			if !utf8.ValidString(te.Description) || !strings.Contains(te.Description, "more bytes)") {
				t.Fatalf("description %q… is not cut cleanly", te.Description[:40])
			}
		})
	}
}
