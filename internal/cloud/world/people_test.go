package world

import (
	"slices"
	"strings"
	"testing"
)

const peopleHead = `tenants:
  - id: 2e319086-9a26-46a3-865f-615bed576786
    subscriptions:
      - id: 7e242177-ef0b-431f-8c76-e40907843aa7
        resourceGroups:
          - name: rg
            identities:
              - name: kubelet
    applications:
      - name: ci
`

func TestPeopleAndGroups(t *testing.T) {
	w, err := Parse("w.yaml", []byte(peopleHead+`    users:
      - userPrincipalName: alice@contoso.com
        password: pw
      - userPrincipalName: bob@contoso.com
        displayName: Bob Jones
        password: pw
        disabled: true
    groups:
      - name: devs
        members: [alice@contoso.com, ci, kubelet]
      - name: all
        members: [devs, BOB@contoso.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Users) != 2 || st.Users[0].DisplayName != "alice" || st.Users[1].DisplayName != "Bob Jones" || !st.Users[1].Disabled {
		t.Fatalf("users = %+v", st.Users)
	}
	devs, all := st.Groups[0], st.Groups[1]
	want := []string{st.Users[0].ObjectID, st.Applications[0].ObjectID, st.Identities[0].PrincipalID}
	if !slices.Equal(devs.Members, want) || !slices.Equal(all.Members, []string{devs.ObjectID, st.Users[1].ObjectID}) {
		t.Fatalf("members: devs %v (want %v), all %v", devs.Members, want, all.Members)
	}
	again, _ := w.State()
	if again.Users[0].ObjectID != st.Users[0].ObjectID || again.Groups[0].ObjectID != devs.ObjectID {
		t.Fatal("derived object IDs are not stable")
	}
}

func TestBadPeopleNameLineAndField(t *testing.T) {
	cases := map[string]struct {
		yaml string
		want string
	}{
		"a UPN without a domain": {
			yaml: "    users:\n      - userPrincipalName: alice\n        password: pw\n",
			want: `w.yaml:12: tenants[0].users[0].userPrincipalName: "alice" is not a user principal name`,
		},
		"a user without a password": {
			yaml: "    users:\n      - userPrincipalName: alice@contoso.com\n",
			want: "w.yaml:12: tenants[0].users[0].password: is required",
		},
		"the same UPN twice": {
			yaml: "    users:\n      - {userPrincipalName: alice@contoso.com, password: a}\n      - {userPrincipalName: ALICE@contoso.com, password: b}\n",
			want: `tenants[0].users[1].userPrincipalName: user "ALICE@contoso.com" is declared twice`,
		},
		"a member nobody declared": {
			yaml: "    groups:\n      - name: devs\n        members: [carol@contoso.com]\n",
			want: `w.yaml:13: tenants[0].groups[0].members[0]: no user, group, application or identity named "carol@contoso.com"`,
		},
		"a group in itself": {
			yaml: "    groups:\n      - name: devs\n        members: [devs]\n",
			want: `tenants[0].groups[0].members[0]: group "devs" cannot be a member of itself`,
		},
		"an unknown key names the allowed ones": {
			yaml: "    users:\n      - upn: alice@contoso.com\n",
			want: "w.yaml:12: upn: unknown field; allowed: disabled, displayName, objectId, password, userPrincipalName",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("w.yaml", []byte(peopleHead+tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
