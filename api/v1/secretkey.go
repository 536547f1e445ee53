package v1

import (
	"fmt"
	"slices"
	"strings"
)

// Keys of the Secret named in an AzureIdentity's spec.clientPassword.
const (
	// SecretKeyClientSecret is where a service principal's (type 1) client
	// secret is looked for first when the Secret has several keys.
	SecretKeyClientSecret = "clientsecret"
	// SecretKeyPassword is looked for next: guides create the Secret with
	// kubectl create secret generic NAME --from-literal=password=SECRET.
	SecretKeyPassword = "password"
	// SecretKeyCertificate holds the PEM certificate and key of a type 2
	// identity, the key aad-pod-identity read.
	SecretKeyCertificate = "certificate"
)

// ClientSecretKey chooses the key of a type 1 identity's Secret that holds
// the client secret; the node agent reads it and podid doctor checks it by
// this one rule. aad-pod-identity used the Secret's value whatever its key,
// and guides rely on it ("the name of the value in the secret doesn't
// matter"), so a single key is used whatever its name. Of several keys,
// clientsecret is preferred, then password; any other mix is refused
// rather than guessed. secret is namespace/name, for the message, which
// names the keys found and the fix.
func ClientSecretKey(secret string, keys []string) (string, error) {
	switch len(keys) {
	case 0:
		return "", fmt.Errorf("secret %s holds no value; put the service principal's client secret in it under the key %s (kubectl create secret generic NAME --from-literal=%s=SECRET)",
			secret, SecretKeyClientSecret, SecretKeyClientSecret)
	case 1:
		return keys[0], nil
	}
	for _, want := range []string{SecretKeyClientSecret, SecretKeyPassword} {
		if slices.Contains(keys, want) {
			return want, nil
		}
	}
	sorted := slices.Sorted(slices.Values(keys))
	return "", fmt.Errorf("secret %s has keys %s and none of them is %q or %q, so the client secret cannot be told apart; keep only the client secret in the Secret, or store it under the key %q",
		secret, strings.Join(sorted, ", "), SecretKeyClientSecret, SecretKeyPassword, SecretKeyClientSecret)
}
