package gettoken

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestGetTokenRefusesWhatItCannotDo(t *testing.T) {
	base := []string{"--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", "t", "--cache-dir", t.TempDir()}
	cases := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"no authority host: Azure itself is kubelogin's job": {args: base, want: "--authority-host is required"},
		"a login method podid does not have":                 {args: append([]string{"-l", "interactive", "--authority-host", "https://127.0.0.1:1/"}, base...), want: `--login "interactive": podid get-token supports devicecode and spn`},
		"a service principal without its secret": {args: append([]string{"--authority-host", "https://127.0.0.1:1/"}, base...),
			env: map[string]string{"AAD_LOGIN_METHOD": "spn", "AAD_SERVICE_PRINCIPAL_CLIENT_ID": "sp"}, want: "set AAD_SERVICE_PRINCIPAL_CLIENT_ID and AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"},
		"an environment kubelogin does not know": {args: append([]string{"-e", "Mars", "--authority-host", "https://127.0.0.1:1/"}, base...), want: `--environment "Mars"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, k := range []string{"AAD_LOGIN_METHOD", "AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"} {
				t.Setenv(k, tc.env[k])
			}
			cmd := NewCommand(context.Background())
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(io.Discard) // usage text; kubectl shows the error
			cmd.SetArgs(tc.args)
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Fatalf("a refused call printed %q on stdout, where kubectl reads the credential", out.String())
			}
		})
	}
}
