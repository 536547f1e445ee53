package azrbac

import (
	"errors"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"

	"github.com/podid/podid/internal/cloud/authz"
)

const testCluster = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"

func res(verb, group, resource, sub, ns string) authzv1.SubjectAccessReviewSpec {
	return authzv1.SubjectAccessReviewSpec{User: "alice@contoso.com",
		ResourceAttributes: &authzv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: ns}}
}

func nonRes(verb, path string) authzv1.SubjectAccessReviewSpec {
	return authzv1.SubjectAccessReviewSpec{User: "alice@contoso.com", NonResourceAttributes: &authzv1.NonResourceAttributes{Verb: verb, Path: path}}
}

func TestDataActionAndScope(t *testing.T) {
	cases := map[string]struct {
		spec      authzv1.SubjectAccessReviewSpec
		wantAct   string
		wantScope string
	}{
		"listing core pods in a namespace reads pods there": {res("list", "", "pods", "", "dev"),
			"Microsoft.ContainerService/managedClusters/pods/read", testCluster + "/namespaces/dev"},
		"watching is reading": {res("watch", "", "configmaps", "", "dev"),
			"Microsoft.ContainerService/managedClusters/configmaps/read", testCluster + "/namespaces/dev"},
		"creating a deployment writes apps/deployments": {res("create", "apps", "deployments", "", "dev"),
			"Microsoft.ContainerService/managedClusters/apps/deployments/write", testCluster + "/namespaces/dev"},
		"patching is writing": {res("patch", "apps", "deployments", "", "dev"),
			"Microsoft.ContainerService/managedClusters/apps/deployments/write", testCluster + "/namespaces/dev"},
		"deletecollection is deleting": {res("deletecollection", "batch", "jobs", "", "dev"),
			"Microsoft.ContainerService/managedClusters/batch/jobs/delete", testCluster + "/namespaces/dev"},
		"exec into a pod is its own action": {res("create", "", "pods", "exec", "dev"),
			"Microsoft.ContainerService/managedClusters/pods/exec/action", testCluster + "/namespaces/dev"},
		"other subresources count as the resource": {res("get", "", "pods", "log", "dev"),
			"Microsoft.ContainerService/managedClusters/pods/read", testCluster + "/namespaces/dev"},
		"binding a role is an action": {res("bind", "rbac.authorization.k8s.io", "clusterroles", "", ""),
			"Microsoft.ContainerService/managedClusters/rbac.authorization.k8s.io/clusterroles/bind/action", testCluster},
		"impersonation is an action": {res("impersonate", "", "users", "", ""),
			"Microsoft.ContainerService/managedClusters/users/impersonate/action", testCluster},
		"cluster-scoped reads are checked at the cluster": {res("list", "", "nodes", "", ""),
			"Microsoft.ContainerService/managedClusters/nodes/read", testCluster},
		"a non-resource GET reads the path": {nonRes("get", "/metrics"),
			"Microsoft.ContainerService/managedClusters/metrics/read", testCluster},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := DataAction(tc.spec)
			if err != nil || got != tc.wantAct {
				t.Errorf("DataAction = %q, %v; want %q", got, err, tc.wantAct)
			}
			if s := Scope(testCluster, tc.spec); s != tc.wantScope {
				t.Errorf("Scope = %q; want %q", s, tc.wantScope)
			}
		})
	}
}

func TestDataActionRefusesWhatAKSCannotCheck(t *testing.T) {
	for name, spec := range map[string]authzv1.SubjectAccessReviewSpec{
		"wildcard verb":     res("*", "", "pods", "", "dev"),
		"wildcard resource": res("get", "", "*", "", "dev"),
		"wildcard group":    res("get", "*", "pods", "", "dev"),
		"empty review":      {User: "alice@contoso.com"},
	} {
		if got, err := DataAction(spec); err == nil {
			t.Errorf("%s: DataAction = %q, want an error", name, got)
		}
	}
}

func TestPlan(t *testing.T) {
	const oid = "11111111-1111-1111-1111-111111111111"
	withGroups := res("list", "", "pods", "", "dev")
	withGroups.Groups = []string{"system:authenticated", "AAAAAAAA-0000-0000-0000-000000000001"}
	system := res("list", "", "pods", "", "dev")
	system.User = "system:serviceaccount:dev:default"
	cases := map[string]struct {
		policy   Policy
		spec     authzv1.SubjectAccessReviewSpec
		oid      string
		wantAsk  bool
		want     Decision // when !wantAsk
		wantQ    Question // when wantAsk
		errorSet bool
	}{
		"an Azure AD user's request becomes a question with only GUID groups": {
			policy: Policy{ClusterID: testCluster}, spec: withGroups, oid: oid, wantAsk: true,
			wantQ: Question{Subject: Subject{ObjectID: oid, Groups: []string{"aaaaaaaa-0000-0000-0000-000000000001"}},
				Scope: testCluster + "/namespaces/dev", Action: "Microsoft.ContainerService/managedClusters/pods/read"},
		},
		"Kubernetes' own users are left to RBAC": {
			policy: Policy{ClusterID: testCluster, DenyNonAADUsers: true}, spec: system, oid: oid,
			want: Decision{Verdict: NoOpinion, Reason: ReasonSystemUser},
		},
		"a user Azure AD does not know is left to RBAC by default": {
			policy: Policy{ClusterID: testCluster}, spec: res("list", "", "pods", "", "dev"),
			want: Decision{Verdict: NoOpinion, Reason: ReasonNonAADNoOpinion},
		},
		"a user Azure AD does not know is denied when policy says so": {
			policy: Policy{ClusterID: testCluster, DenyNonAADUsers: true}, spec: res("list", "", "pods", "", "dev"),
			want: Decision{Verdict: Deny, Reason: ReasonNonAADDenied},
		},
		"discovery is allowed without a role when policy says so": {
			policy: Policy{ClusterID: testCluster, AllowDiscovery: true}, spec: nonRes("get", "/apis/apps/v1"), oid: oid,
			want: Decision{Verdict: Allow, Reason: ReasonAllowed},
		},
		"discovery is checked like anything else by default": {
			policy: Policy{ClusterID: testCluster}, spec: nonRes("get", "/version"), oid: oid, wantAsk: true,
			wantQ: Question{Subject: Subject{ObjectID: oid}, Scope: testCluster, Action: "Microsoft.ContainerService/managedClusters/version/read"},
		},
		"a wildcard request cannot be checked and says why": {
			policy: Policy{ClusterID: testCluster}, spec: res("*", "", "pods", "", "dev"), oid: oid,
			want: Decision{Verdict: NoOpinion}, errorSet: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			q, d, ask := Plan(tc.policy, tc.spec, tc.oid)
			if ask != tc.wantAsk {
				t.Fatalf("ask = %v, want %v (decision %+v)", ask, tc.wantAsk, d)
			}
			if ask {
				if q.Scope != tc.wantQ.Scope || q.Action != tc.wantQ.Action || q.Subject.ObjectID != tc.wantQ.Subject.ObjectID ||
					len(q.Subject.Groups) != len(tc.wantQ.Subject.Groups) || (len(q.Subject.Groups) > 0 && q.Subject.Groups[0] != tc.wantQ.Subject.Groups[0]) {
					t.Errorf("question = %+v, want %+v", q, tc.wantQ)
				}
				return
			}
			if d.Verdict != tc.want.Verdict || d.Reason != tc.want.Reason || (d.Error != "") != tc.errorSet {
				t.Errorf("decision = %+v, want %+v (error set: %v)", d, tc.want, tc.errorSet)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	if d := Answer(authz.Decision{Allowed: true}, nil); d.Verdict != Allow || d.Reason != ReasonAllowed || !d.Status().Allowed || d.Status().Denied {
		t.Errorf("allowed: %+v", d)
	}
	if d := Answer(authz.Decision{Reason: authz.ReasonNoAssignment}, nil); d.Verdict != Deny || d.Reason != ReasonDenied || !d.Status().Denied || d.Status().Allowed {
		t.Errorf("not allowed must deny with AKS's text: %+v", d)
	}
	d := Answer(authz.Decision{}, errors.New("directory unreachable"))
	if d.Verdict != NoOpinion || d.Status().Denied || d.Status().Allowed || d.Error == "" {
		t.Errorf("a failed check must be no opinion with an evaluation error: %+v", d)
	}
}

func TestObjectIDComesFromExtraOID(t *testing.T) {
	spec := res("get", "", "pods", "", "dev")
	if got := ObjectID(spec); got != "" {
		t.Errorf("no extra: %q", got)
	}
	spec.Extra = map[string]authzv1.ExtraValue{"oid": {"22222222-2222-2222-2222-222222222222"}}
	if got := ObjectID(spec); got != "22222222-2222-2222-2222-222222222222" {
		t.Errorf("extra oid: %q", got)
	}
}
