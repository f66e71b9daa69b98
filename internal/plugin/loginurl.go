package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
)

func init() { register(newLoginURLCommand) }

type loginURLOptions struct {
	login, connection, target string
}

func newLoginURLCommand(o *Options) *cobra.Command {
	lo := &loginURLOptions{}
	cmd := &cobra.Command{
		Use:   "login-url (USER | --login LOGIN --connection KIND/NAME)",
		Short: "Print a one-time login link for the remote user of a User object, or for a login",
		Long: `login-url prints a link that logs into the account server's console as a user, once.

With USER, the user is the remote user of the User object USER (its status.id), on the connection
the operator uses for it (its own accountServerRef, or its Tenant's). With --login and --connection,
it is the user with that login in the connection's tenant subtree.

It refuses, and asks the server for nothing, when the User object is disabled (spec.enabled false,
or status.enabled false), when it has no remote user yet (no status.id), or when the remote user
is disabled (read with GET /users/{id} first). Then it asks for a one-time token (POST /idp/ott,
purpose user_login) and prints <server>/api/2/idp/external-login?ott=<token>[&targetURI=<uri>].

The link is a credential until used or expired: it is printed, never stored or logged. It uses the
credentials of the connection's Secret, so your RBAC must let you read that Secret.`,
		Example: `  kubectl accounts login-url acme-admin -n default
  kubectl accounts login-url acme-admin --target https://eu2-cloud.example.com/mc/
  kubectl accounts login-url --login jane@acme.example --connection ClusterAccountServer/eu2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			user := ""
			if len(args) == 1 {
				user = args[0]
			}
			link, err := lo.run(cmd.Context(), o, user)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(o.Out, link)
			return err
		},
	}
	cmd.Flags().StringVar(&lo.login, "login", "", "the remote user's login, instead of a User object (needs --connection)")
	cmd.Flags().StringVar(&lo.connection, "connection", "", "with --login: the connection, as AccountServer/NAME or ClusterAccountServer/NAME")
	cmd.Flags().StringVar(&lo.target, "target", "", "where the console sends the user after logging in (the link's targetURI)")
	return cmd
}

// checkArgs says what is wrong with the combination of USER, --login and --connection.
func (lo *loginURLOptions) checkArgs(user string) error {
	switch {
	case user != "" && lo.login != "":
		return errors.New("give either USER (a User object) or --login, not both")
	case user != "" && lo.connection != "":
		return errors.New("--connection goes with --login; a User object's connection is the one the operator uses for it")
	case user == "" && lo.login == "":
		return errors.New("name a User object (USER), or give --login and --connection")
	case lo.login != "" && lo.connection == "":
		return errors.New("--login needs --connection KIND/NAME: the account server to ask")
	case strings.ContainsAny(lo.target, " \t\r\n"):
		return errors.New("--target must be a URI without whitespace")
	}
	return nil
}

// run finds the remote user, checks that it may log in, and returns the link.
func (lo *loginURLOptions) run(ctx context.Context, o *Options, user string) (string, error) {
	if err := lo.checkArgs(user); err != nil {
		return "", err
	}
	ns, err := o.Namespace()
	if err != nil {
		return "", err
	}
	var conn *connection.Connection
	var userID, what string
	if user != "" {
		what = "User " + ns + "/" + user
		cl, err := o.Client()
		if err != nil {
			return "", err
		}
		var u v1.User
		if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: user}, &u); err != nil {
			if apierrors.IsNotFound(err) {
				return "", fmt.Errorf("%s not found", what)
			}
			return "", fmt.Errorf("reading %s: %w", what, err)
		}
		if err := CheckUserMayLogIn(&u); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		ref, err := tenant.InheritedConnection(ctx, cl, ns, u.Spec.AccountServerRef, u.Spec.TenantRef)
		if err != nil {
			return "", fmt.Errorf("%s: its connection: %w", what, err)
		}
		if conn, err = o.Connect(ctx, ref, ns); err != nil {
			return "", err
		}
		userID = u.Status.ID
	} else {
		ref, err := ParseConnection(lo.connection)
		if err != nil {
			return "", err
		}
		if conn, err = o.Connect(ctx, ref, ns); err != nil {
			return "", err
		}
		what = fmt.Sprintf("login %q", lo.login)
		if userID, err = findLogin(ctx, conn, lo.login); err != nil {
			return "", err
		}
	}
	server := Server(conn)
	remote, err := server.GetUser(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("%s: reading the remote user: %w", what, err)
	}
	if err := checkRemoteUser(remote); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	ott, err := server.CreateLoginToken(ctx, accountserver.LoginTokenFor{UserID: remote.ID})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return server.ExternalLoginURL(ott, lo.target), nil
}

// CheckUserMayLogIn refuses a User object that is disabled or has no remote user yet.
func CheckUserMayLogIn(u *v1.User) error {
	switch {
	case u.Spec.Enabled != nil && !*u.Spec.Enabled:
		return errors.New("the user is disabled (spec.enabled: false); no login link is made for it")
	case u.Status.Enabled != nil && !*u.Status.Enabled:
		return errors.New("the account server reports the user disabled (status.enabled: false); no login link is made for it")
	case u.Status.ID == "":
		return errors.New("the user has no remote user yet (status.id is empty): it has not been created on the account server")
	}
	return nil
}

// checkRemoteUser refuses a remote user that cannot log in.
func checkRemoteUser(u *accountserver.User) error {
	switch {
	case u.DeletedAt != nil:
		return fmt.Errorf("the remote user %s is deleted", u.ID)
	case !u.Enabled:
		return fmt.Errorf("the remote user %s is disabled on the account server; no login link is made for it", u.ID)
	}
	return nil
}

// findLogin finds the user with this login (case-insensitive) in the connection's subtree.
func findLogin(ctx context.Context, conn *connection.Connection, login string) (string, error) {
	for u, err := range Server(conn).ListUsers(ctx, accountserver.UserQuery{SubtreeRootTenantID: conn.TenantID, Lod: "basic"}) {
		if err != nil {
			return "", fmt.Errorf("looking for login %q: %w", login, err)
		}
		if strings.EqualFold(u.Login, login) {
			return u.ID, nil
		}
	}
	return "", fmt.Errorf("no user with login %q in the subtree of tenant %s (%s)", login, conn.TenantName, conn.TenantID)
}
