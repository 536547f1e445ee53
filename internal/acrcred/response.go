package acrcred

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// Wire facts of the kubelet's credential provider API and of ACR.
const (
	// APIVersion is the only request version the provider answers.
	APIVersion = "credentialprovider.kubelet.k8s.io/v1"
	// NullUsername pairs with an ACR refresh token used as a password.
	NullUsername = "00000000-0000-0000-0000-000000000000"
	// AnonymousKey is AKS's always-present entry with empty credentials,
	// for registries that allow anonymous pull.
	AnonymousKey = "*.azurecr.*"
	// DefaultCacheDuration is how long the kubelet may keep credentials,
	// as AKS's provider answers from v1.36 on; a refresh token that
	// expires sooner shortens it.
	DefaultCacheDuration = 60 * time.Minute
	// expiryMargin keeps the kubelet from using a refresh token in its
	// last minutes.
	expiryMargin = 5 * time.Minute
)

// CacheDuration is how long the kubelet may cache a refresh token that
// expires at exp: DefaultCacheDuration, or less so the kubelet asks again
// expiryMargin before the token dies; never negative. A zero exp (unknown)
// gives DefaultCacheDuration.
func CacheDuration(exp, now time.Time) time.Duration {
	if exp.IsZero() {
		return DefaultCacheDuration
	}
	d := exp.Sub(now) - expiryMargin
	switch {
	case d < 0:
		return 0
	case d > DefaultCacheDuration:
		return DefaultCacheDuration
	}
	return d.Truncate(time.Second)
}

// NotACR is the answer for an image of another registry: success with no
// credentials and nothing to cache, so other providers or anonymous pull
// take over.
func NotACR() *credv1.CredentialProviderResponse {
	return &credv1.CredentialProviderResponse{
		TypeMeta:      metav1.TypeMeta{APIVersion: APIVersion, Kind: "CredentialProviderResponse"},
		CacheKeyType:  credv1.RegistryPluginCacheKeyType,
		CacheDuration: &metav1.Duration{Duration: 0},
		Auth:          map[string]credv1.AuthConfig{},
	}
}

// Credentials is the answer for target: the refresh token as the null
// GUID's password under the login server (and the mirror source), cached
// per registry for ttl, plus AKS's anonymous entry when anonymous is set.
func Credentials(target Target, refreshToken string, ttl time.Duration, anonymous bool) *credv1.CredentialProviderResponse {
	r := NotACR()
	r.CacheDuration.Duration = ttl
	auth := credv1.AuthConfig{Username: NullUsername, Password: refreshToken}
	r.Auth[target.LoginServer] = auth
	if target.Source != "" {
		r.Auth[target.Source] = auth
	}
	if anonymous {
		r.Auth[AnonymousKey] = credv1.AuthConfig{}
	}
	return r
}
