package plugin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

func init() { register(newExportCommand) }

type exportFlags struct {
	connection     string
	subtree        string
	observeOnly    bool
	output         string
	deletionPolicy string
}

func newExportCommand(o *Options) *cobra.Command {
	f := &exportFlags{}
	cmd := &cobra.Command{
		Use:   "export --connection KIND/NAME [--subtree TENANT_ID] [--observe-only] -o DIR|-",
		Short: "Write manifests that adopt an existing subtree of the account server",
		Long: `export reads a subtree of the account server (tenants, users with their roles, and the offering
items that differ from what a tenant inherits) and writes the Tenant, User and OfferingItemQuota
objects that adopt it by importID. Applied, they change nothing on the server: every field they
declare is the server's value. With --observe-only the objects only mirror the server.

It only reads: list requests that page through the whole subtree, a handful for thousands of
objects. The credentials are those of the connection named, read with your RBAC.`,
		Example: `  kubectl accounts export --connection ClusterAccountServer/eu2 -n customers -o ./adopted
  kubectl accounts export --connection AccountServer/eu2 --subtree 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70 --observe-only -o - | kubectl apply -n customers -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runExport(cmd.Context(), o, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.connection, "connection", "", "the connection to read through: AccountServer/NAME (in the namespace) or ClusterAccountServer/NAME (required)")
	fl.StringVar(&f.subtree, "subtree", "", "the UUID of the tenant to export with everything below it (default: the connection's own tenant)")
	fl.BoolVar(&f.observeOnly, "observe-only", false, "give every object managementPolicy ObserveOnly: the operator only mirrors the server")
	fl.StringVarP(&f.output, "output", "o", "", "a directory to write (new or empty), or - for one YAML stream on stdout (required)")
	fl.StringVar(&f.deletionPolicy, "deletion-policy", string(v1.DeletionOrphan), "deletionPolicy of every Tenant and User: Orphan (deleting the object leaves the remote one) or Delete")
	_ = cmd.MarkFlagRequired("connection")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

// requestCounter counts the requests a client sends, token requests
// apart.
type requestCounter struct {
	base          http.RoundTripper
	api, token    atomic.Int64
	onRequestSent func()
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/idp/token") {
		c.token.Add(1)
	} else {
		c.api.Add(1)
		if c.onRequestSent != nil {
			c.onRequestSent()
		}
	}
	return c.base.RoundTrip(r)
}

// connectCounting is Options.Connect with the client's requests counted,
// for the summary.
func connectCounting(ctx context.Context, o *Options, ref v1.AccountServerReference, namespace string, counter *requestCounter) (*connection.Connection, error) {
	cl, err := o.Client()
	if err != nil {
		return nil, err
	}
	reg := &connection.Registry{Reader: cl, SecretReader: cl, OperatorNamespace: o.OperatorNamespace, Logger: logr.Discard(),
		Configure: func(cfg *accountserver.Config) {
			var base http.RoundTripper
			if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
				base = cfg.HTTPClient.Transport
			} else {
				t := http.DefaultTransport.(*http.Transport).Clone()
				if cfg.TLS != nil {
					t.TLSClientConfig = cfg.TLS.Clone()
				}
				base = t
			}
			counter.base = base
			cfg.HTTPClient = &http.Client{Transport: counter}
		}}
	conn, err := reg.Resolve(ctx, ref, namespace)
	if err != nil {
		return nil, fmt.Errorf("connection %s/%s: %w", ref.Kind, ref.Name, err)
	}
	return conn, nil
}

func runExport(ctx context.Context, o *Options, f *exportFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	ref, err := ParseConnection(f.connection)
	if err != nil {
		return err
	}
	policy := v1.DeletionPolicy(f.deletionPolicy)
	if policy != v1.DeletionOrphan && policy != v1.DeletionDelete {
		return fmt.Errorf("--deletion-policy %q: want Orphan or Delete", f.deletionPolicy)
	}
	if f.subtree != "" && !uuidPattern.MatchString(f.subtree) {
		return fmt.Errorf("--subtree %q: want a tenant's lowercase UUID", f.subtree)
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	progress := newProgress(o.ErrOut)
	counter := &requestCounter{}
	conn, err := connectCounting(ctx, o, ref, ns, counter)
	if err != nil {
		return err
	}
	counter.onRequestSent = progress.request
	snap, err := readSubtree(ctx, conn, f.subtree, progress)
	progress.done()
	if err != nil {
		return err
	}
	ex, err := buildExport(snap, exportOptions{Connection: ref, ObserveOnly: f.observeOnly, DeletionPolicy: policy})
	if err != nil {
		return err
	}
	files := 0
	if f.output == "-" {
		err = writeStream(o.Out, ex)
	} else {
		files, err = writeDir(f.output, ex)
	}
	if err != nil {
		return err
	}
	return summarize(o.ErrOut, ex, snap, f, counter, files, time.Since(start))
}

func summarize(w io.Writer, ex *export, snap *snapshot, f *exportFlags, counter *requestCounter, files int, took time.Duration) error {
	tenants, users, quotas, items := ex.counts()
	root := snap.RootID
	for _, t := range snap.Tenants {
		if t.ID == snap.RootID {
			root = fmt.Sprintf("%q (%s)", t.Name, t.ID)
		}
	}
	var b strings.Builder
	for _, warning := range ex.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warning)
	}
	fmt.Fprintf(&b, "exported tenant %s and everything below it through %s\n", root, f.connection)
	fmt.Fprintf(&b, "  Tenant             %d\n", tenants)
	fmt.Fprintf(&b, "  User               %d\n", users)
	fmt.Fprintf(&b, "  OfferingItemQuota  %d (%d items that differ from what the tenant inherits)\n", quotas, items)
	if len(ex.Warnings) > 0 {
		fmt.Fprintf(&b, "  left out or unmanaged: %d (see the warnings above)\n", len(ex.Warnings))
	}
	policy := "Managed"
	if f.observeOnly {
		policy = "ObserveOnly"
	}
	fmt.Fprintf(&b, "managementPolicy %s, deletionPolicy %s of Tenants and Users\n", policy, f.deletionPolicy)
	fmt.Fprintf(&b, "account server requests: %d, all reads (and %s) in %s\n", counter.api.Load(), plural(counter.token.Load(), "token request"), took.Round(time.Millisecond))
	if f.output != "-" {
		fmt.Fprintf(&b, "wrote %d files to %s: kubectl apply -k %s -n NAMESPACE\n", files, f.output, f.output)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// progress shows, on a terminal only, how far the reading is.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	last    time.Time
	reqs    int
	counts  map[string]int
	printed bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, counts: map[string]int{}}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) request() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs++
	p.show(false)
}

func (p *progress) add(kind string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts[kind] += n
	p.show(false)
}

func (p *progress) show(force bool) {
	if !p.on || (!force && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	p.printed = true
	_, _ = fmt.Fprintf(p.w, "\rreading: %d tenants, %d users, %d offering items (%d requests)\x1b[K",
		p.counts["tenants"], p.counts["users"], p.counts["items"], p.reqs)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on && p.printed {
		p.show(true)
		_, _ = fmt.Fprint(p.w, "\n")
	}
}

// plural is "1 token request", "2 token requests".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
