// Package plugin is kubectl-accounts, the kubectl plugin of
// tenant-operator: the root command, what every subcommand shares (the
// user's kubeconfig and RBAC, a connection object's credentials), and one
// file per subcommand.
package plugin

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"io"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// IOStreams are where a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Options is what every subcommand shares: the kubeconfig flags kubectl
// has (--kubeconfig, --context, -n) and the terminal.
type Options struct {
	IOStreams
	// Kubeconfig, Context and NamespaceFlag are the flags; empty: what
	// KUBECONFIG / ~/.kube/config says.
	Kubeconfig, Context, NamespaceFlag string
	// OperatorNamespace holds the Secret of a ClusterAccountServer whose
	// secretRef names no namespace, as the operator's --namespace does.
	OperatorNamespace string

	once   sync.Once
	client client.Client
	err    error
}

// subcommands are the constructors of every subcommand; each subcommand's
// file adds its own in an init function, so they never edit one list.
var (
	subcommandsMu sync.Mutex
	subcommands   []func(*Options) *cobra.Command
)

func register(f func(*Options) *cobra.Command) {
	subcommandsMu.Lock()
	defer subcommandsMu.Unlock()
	subcommands = append(subcommands, f)
}

// NewCommand is `kubectl accounts` with every subcommand.
func NewCommand(streams IOStreams) *cobra.Command {
	o := &Options{IOStreams: streams}
	root := &cobra.Command{
		Use:   "kubectl-accounts",
		Short: "See and adopt the tenants, users and quotas tenant-operator manages",
		Long: `kubectl accounts works with the objects of tenant-operator (group accounts.tenant-operator.io).
It uses your kubeconfig and RBAC. Where it talks to the account server itself, it uses the
credentials of the connection object you name (an AccountServer or ClusterAccountServer),
and only if your RBAC lets you read that connection's Secret.`,
		SilenceUsage:  true,
		SilenceErrors: false,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	flags := root.PersistentFlags()
	flags.StringVar(&o.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	flags.StringVar(&o.Context, "context", "", "the kubeconfig context to use")
	flags.StringVarP(&o.NamespaceFlag, "namespace", "n", "", "the namespace (default: the context's)")
	flags.StringVar(&o.OperatorNamespace, "operator-namespace", "tenant-operator-system", "the operator's namespace: where a ClusterAccountServer's Secret is when its secretRef names none")
	subcommandsMu.Lock()
	defer subcommandsMu.Unlock()
	for _, f := range subcommands {
		root.AddCommand(f(o))
	}
	return root
}

// Client is a client of the Kubernetes API server as the kubeconfig says,
// knowing the operator's kinds. It reads around any cache: what it shows
// is what the API server has now.
func (o *Options) Client() (client.Client, error) {
	o.once.Do(func() {
		cfg, err := o.loader().ClientConfig()
		if err != nil {
			o.err = fmt.Errorf("kubeconfig: %w", err)
			return
		}
		o.client, o.err = client.New(cfg, client.Options{Scheme: operator.NewScheme()})
	})
	return o.client, o.err
}

// loader reads the kubeconfig as kubectl does.
func (o *Options) loader() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	overrides.Context.Namespace = o.NamespaceFlag
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
}

// Namespace is the namespace of -n, else the kubeconfig context's, else
// default.
func (o *Options) Namespace() (string, error) {
	ns, _, err := o.loader().Namespace()
	return ns, err
}

// ParseConnection reads a connection as KIND/NAME: AccountServer/NAME
// (in namespace) or ClusterAccountServer/NAME; the kind is
// case-insensitive and may be plural or short (accountserver, as, cas).
func ParseConnection(s string) (v1.AccountServerReference, error) {
	kind, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return v1.AccountServerReference{}, fmt.Errorf("connection %q: want KIND/NAME, e.g. AccountServer/eu2 or ClusterAccountServer/eu2", s)
	}
	switch strings.ToLower(kind) {
	case "accountserver", "accountservers", "as":
		return v1.AccountServerReference{Kind: connection.KindAccountServer, Name: name}, nil
	case "clusteraccountserver", "clusteraccountservers", "cas":
		return v1.AccountServerReference{Kind: connection.KindClusterAccountServer, Name: name}, nil
	}
	return v1.AccountServerReference{}, fmt.Errorf("connection %q: kind %q is neither AccountServer nor ClusterAccountServer", s, kind)
}

// Connect builds an account server client from a connection object and
// its credentials Secret, read with the user's own RBAC: a user who may
// not read the Secret gets the API server's refusal, and nothing else is
// tried. namespace is the namespace of the object the connection serves
// (an AccountServer's own; a ClusterAccountServer must allow it).
func (o *Options) Connect(ctx context.Context, ref v1.AccountServerReference, namespace string) (*connection.Connection, error) {
	cl, err := o.Client()
	if err != nil {
		return nil, err
	}
	reg := &connection.Registry{Reader: cl, SecretReader: cl, OperatorNamespace: o.OperatorNamespace, Logger: logr.Discard()}
	conn, err := reg.Resolve(ctx, ref, namespace)
	if err != nil {
		return nil, fmt.Errorf("connection %s/%s: %w", ref.Kind, ref.Name, err)
	}
	return conn, nil
}

// Server is the account server client of a connection.
func Server(conn *connection.Connection) *accountserver.Client { return conn.Client }
