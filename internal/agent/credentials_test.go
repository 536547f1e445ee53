package agent

import (
	"context"
	"strings"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/podid/podid/internal/tokens"
)

func TestClientSecretIsReadFromTheIdentitysSecret(t *testing.T) {
	kube := fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "sp"},
		Data: map[string][]byte{"clientsecret": []byte("s3cret")}})
	get := clientSecretFrom(kube)
	cases := map[string]struct {
		id     tokens.Identity
		want   string
		wantIn string
	}{
		"the clientsecret key is the secret":  {id: tokens.Identity{Name: "apps/id", SecretNamespace: "apps", SecretName: "sp"}, want: "s3cret"},
		"a missing Secret is named":           {id: tokens.Identity{Name: "apps/id", SecretNamespace: "apps", SecretName: "nope"}, wantIn: "get Secret apps/nope"},
		"an identity without Secret is named": {id: tokens.Identity{Name: "apps/id"}, wantIn: "names no Secret"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := get(context.Background(), tc.id)
			if tc.wantIn != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
					t.Fatalf("error %v, want %q", err, tc.wantIn)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestServiceAccountTokenAsksForTheExchangeAudience(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authv1.TokenRequest)
		if a.GetSubresource() != "token" || len(tr.Spec.Audiences) != 1 || tr.Spec.Audiences[0] != tokens.FederatedAudience {
			t.Errorf("token request %v %+v", a.GetSubresource(), tr.Spec)
		}
		tr.Status.Token = "sa-jwt"
		return true, tr, nil
	})
	got, err := serviceAccountToken(kube, "kube-system", "podid-nmi")(context.Background())
	if err != nil || got != "sa-jwt" {
		t.Fatalf("got %q, %v", got, err)
	}
}
