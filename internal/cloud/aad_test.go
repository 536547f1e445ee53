package cloud_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/cloud/cloudtest"
)

func getToken(t *testing.T, cred azcore.TokenCredential, scope string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	return tok.Token, err
}

func secretCred(t *testing.T, env *cloudtest.Env, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(env.TenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: env.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func TestClientSecretCredential(t *testing.T) {
	env := startWorld(t)
	app, _ := env.Cloud.Application("deployer")
	expired, _ := env.Cloud.Application("expired-sp")
	cases := map[string]struct {
		clientID, secret string
		wantCode         string // "" means success
	}{
		"the current secret gets a token":                  {app.AppID, "good-secret", ""},
		"a wrong secret is AADSTS7000215":                  {app.AppID, "bad-secret", "AADSTS7000215"},
		"an expired secret is AADSTS7000222":               {expired.AppID, "old-secret", "AADSTS7000222"},
		"an unknown application is AADSTS700016":           {"99999999-9999-9999-9999-999999999999", "x", "AADSTS700016"},
		"a managed identity cannot use a secret (7000215)": {kubeletID, "x", "AADSTS7000215"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tok, err := getToken(t, secretCred(t, env, tc.clientID, tc.secret), "https://vault.azure.net/.default")
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				claims := env.VerifyToken(t, env.TenantID, tok)
				if claims["aud"] != "https://vault.azure.net" || claims["appid"] != app.AppID || claims["oid"] != app.ObjectID || claims["tid"] != env.TenantID || claims["idtyp"] != "app" {
					t.Fatalf("claims = %v", claims)
				}
				return
			}
			var af *azidentity.AuthenticationFailedError
			if !errors.As(err, &af) || !strings.Contains(err.Error(), tc.wantCode) {
				t.Fatalf("error = %v, want %s", err, tc.wantCode)
			}
		})
	}
}

func TestClientCertificateCredential(t *testing.T) {
	env := startWorld(t)
	app, err := env.Cloud.CreateApplication(env.TenantID, "cert-app", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cert-app"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	newCred := func(t *testing.T) azcore.TokenCredential {
		cred, err := azidentity.NewClientCertificateCredential(env.TenantID, app.AppID, []*x509.Certificate{cert}, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: env.ClientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}
	if _, err := getToken(t, newCred(t), "https://storage.azure.com/.default"); err == nil || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("unregistered certificate: error = %v, want AADSTS700027", err)
	}
	if err := env.Cloud.AddAppCertificate(app.AppID, cert); err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, newCred(t), "https://storage.azure.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	if claims := env.VerifyToken(t, env.TenantID, tok); claims["appid"] != app.AppID || claims["appidacr"] != "2" {
		t.Fatalf("claims = %v", claims)
	}
}

func TestWorkloadIdentityCredential(t *testing.T) {
	env := startWorld(t)
	issuer := cloudtest.NewIssuer(t, env)
	ident, _ := env.Cloud.IdentityByName("app-identity")
	const subject = "system:serviceaccount:default:workload"
	if err := env.Cloud.AddFederatedCredential(ident.ID, cloud.FederatedCredential{Name: "kube", Issuer: issuer.URL, Subject: subject,
		Audiences: []string{"api://AzureADTokenExchange"}}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		subject, audience string
		ttl               time.Duration
		wantCode          string
	}{
		"a matching service-account token is exchanged":    {subject, "api://AzureADTokenExchange", time.Hour, ""},
		"a wrong subject is AADSTS70021 naming all three":  {"system:serviceaccount:default:other", "api://AzureADTokenExchange", time.Hour, "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '" + issuer.URL + "'. Assertion Subject: 'system:serviceaccount:default:other'. Assertion Audience: 'api://AzureADTokenExchange'."},
		"subjects match case-sensitively":                  {strings.ToUpper(subject), "api://AzureADTokenExchange", time.Hour, "AADSTS70021"},
		"a wrong audience is AADSTS70021":                  {subject, "api://other", time.Hour, "AADSTS70021"},
		"an expired service-account token is AADSTS700024": {subject, "api://AzureADTokenExchange", -time.Minute, "AADSTS700024"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(file, []byte(issuer.Token(t, tc.subject, tc.audience, tc.ttl)), 0o600); err != nil {
				t.Fatal(err)
			}
			cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
				ClientOptions: env.ClientOptions(), ClientID: ident.ClientID, TenantID: env.TenantID, TokenFilePath: file, DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := getToken(t, cred, "https://management.azure.com/.default")
			if tc.wantCode != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantCode) {
					t.Fatalf("error = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims := env.VerifyToken(t, env.TenantID, tok)
			if claims["xms_mirid"] != ident.ID || claims["oid"] != ident.PrincipalID || claims["aud"] != "https://management.azure.com" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
}
