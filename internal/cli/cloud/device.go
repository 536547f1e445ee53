package cloud

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	embedded "github.com/podid/podid/internal/cloud"
	"github.com/podid/podid/internal/plan/runstate"
)

// deviceOptions are the flags of `podid cloud device approve|deny`.
type deviceOptions struct {
	TargetOptions
	// User is the UPN of the person signing in; Code the code the client printed.
	User, Code string
	// PasswordStdin reads the user's password from standard input and has
	// the cloud check it, as the sign-in page would.
	PasswordStdin bool
}

func newDeviceCommand(ctx context.Context) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "device",
		Short: "Approve or decline a device code sign-in in a running embedded cloud, standing in for https://microsoft.com/devicelogin",
		Long: `A client signing a person in with the device code flow (kubelogin, az login
--use-device-code, azidentity's DeviceCodeCredential) prints a code and polls the
embedded cloud until someone approves it. Where Azure AD has a web page for that,
the embedded cloud has these two commands.`,
	}
	cmd.AddCommand(newDeviceVerb(ctx, "approve", "Sign in as --user to the client that printed --code; its next poll gets tokens"),
		newDeviceVerb(ctx, "deny", "Decline the sign-in of --code; the client's next poll gets authorization_declined"))
	return cmd
}

func newDeviceVerb(ctx context.Context, verb, short string) *cobra.Command {
	o := &deviceOptions{TargetOptions: TargetOptions{StateDir: runstate.DefaultDir()}}
	cmd := &cobra.Command{
		Use:     verb + " --user UPN --code CODE",
		Short:   short,
		Example: "  podid cloud device " + verb + " --user alice@contoso.com --code GQ7K2XRTN",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.User == "" || o.Code == "" {
				return errors.New("--user and --code are required: the UPN of the person signing in and the code the client printed")
			}
			password := ""
			if o.PasswordStdin {
				var err error
				if password, err = readPassword(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			return runDevice(ctx, verb, o, password, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.User, "user", "", "User principal name of the person signing in, e.g. alice@contoso.com (a user of the world file).")
	cmd.Flags().StringVar(&o.Code, "code", "", "The code the client printed (\"enter the code ... to authenticate\"); case does not matter.")
	cmd.Flags().BoolVar(&o.PasswordStdin, "password-stdin", false, "Read the user's password from standard input and have the cloud check it, as the sign-in page does.")
	return cmd
}

// readPassword reads one line from in.
func readPassword(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("--password-stdin: standard input holds no password")
	}
	return line, nil
}

func runDevice(ctx context.Context, verb string, o *deviceOptions, password string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	a, err := newAdmin(o.TargetOptions)
	if err != nil {
		return err
	}
	var s embedded.DeviceSignIn
	body := embedded.DeviceDecision{Code: o.Code, User: o.User, Password: password}
	if err := a.do(ctx, http.MethodPost, "/admin/deviceCodes/"+verb, body, &s); err != nil {
		return err
	}
	if s.Approved {
		_, err = fmt.Fprintf(out, "approved sign-in %s as %s (object id %s) to %s for %s; the client's next poll gets its tokens\n", s.Code, s.User, s.UserID, s.Client, s.Resource)
		return err
	}
	_, err = fmt.Fprintf(out, "declined sign-in %s as %s to %s; the client's next poll gets authorization_declined\n", s.Code, s.User, s.Client)
	return err
}
