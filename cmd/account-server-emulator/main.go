// Command account-server-emulator runs the in-process account server emulator as a standalone
// HTTP server, for demos, curl sessions and tests that drive a real binary. --help says what it
// takes: its flags, its faults and its /_emulator/ control endpoints.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "account-server-emulator:", err)
		os.Exit(1)
	}
}

type config struct {
	addr, stateFile, tlsCert, tlsKey string
	opts                             emulator.Options
}

// newFlagSet defines the flags into c, latency and jitter. Its own messages are discarded: a
// mistake comes back from Parse as the error.
func newFlagSet(c *config, latency, jitter *time.Duration) *flag.FlagSet {
	fs := flag.NewFlagSet("account-server-emulator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on, plain HTTP (port 0 picks a free port)")
	fs.StringVar(&c.opts.ClientID, "client-id", "", "bootstrap API client id (generated when empty)")
	fs.StringVar(&c.opts.ClientSecret, "client-secret", "", "bootstrap API client secret (generated when empty)")
	fs.StringVar(&c.opts.RootTenantID, "root-tenant-id", "", "root tenant id (generated when empty)")
	fs.StringVar(&c.stateFile, "state", "", "file the store is loaded from at start and saved to on shutdown")
	fs.DurationVar(&c.opts.TokenTTL, "token-ttl", 2*time.Hour, "lifetime of access tokens")
	fs.DurationVar(latency, "latency", 0, "delay added to every /api/2 request")
	fs.DurationVar(jitter, "jitter", 0, "random extra delay of up to this much")
	fs.Float64Var(&c.opts.Faults.RateLimit, "rate-limit", 0, "requests per second per client id before 429 (0 = unlimited)")
	fs.Float64Var(&c.opts.Faults.ErrorRate, "fail-rate", 0, "share of requests answered with 500")
	fs.Float64Var(&c.opts.Faults.ThrottleRate, "throttle-rate", 0, "share of requests answered with 429")
	fs.IntVar(&c.opts.Faults.RetryAfterSeconds, "retry-after", 1, "Retry-After seconds of injected 429s")
	fs.Float64Var(&c.opts.Faults.DropAfterCommitRate, "drop-after-commit-rate", 0, "share of committed writes whose answer is dropped")
	fs.BoolVar(&c.opts.Faults.ReportsNotReady, "reports-not-ready", false, "answer POST /reports with 400 \"usage history is not ready\" (the server's nightly window)")
	fs.BoolVar(&c.opts.InstantReports, "instant-reports", false, "save stored reports at once")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate file (serve HTTPS with --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS key file")
	return fs
}

// parseFlags reads the command line. --help and -h write the help to stdout and return
// flag.ErrHelp; any other mistake comes back as the error, with no usage dump.
func parseFlags(args []string, stdout io.Writer) (config, error) {
	var c config
	var latency, jitter time.Duration
	fs := newFlagSet(&c, &latency, &jitter)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help(stdout, fs)
			return config{}, err
		}
		return config{}, fmt.Errorf("%w (see --help)", err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return config{}, errors.New("--tls-cert and --tls-key go together")
	}
	for name, v := range map[string]float64{"--fail-rate": c.opts.Faults.ErrorRate, "--throttle-rate": c.opts.Faults.ThrottleRate, "--drop-after-commit-rate": c.opts.Faults.DropAfterCommitRate} {
		if v < 0 || v > 1 {
			return config{}, fmt.Errorf("%s must be between 0 and 1", name)
		}
	}
	if latency < 0 || jitter < 0 || c.opts.Faults.RateLimit < 0 || c.opts.Faults.RetryAfterSeconds < 0 || c.opts.TokenTTL <= 0 {
		return config{}, errors.New("--latency, --jitter, --rate-limit and --retry-after must not be negative, --token-ttl must be positive")
	}
	c.opts.Faults.Latency = emulator.Duration(latency)
	c.opts.Faults.Jitter = emulator.Duration(jitter)
	return c, nil
}

// run starts the emulator, prints how to reach it, and serves until ctx ends; then it saves the
// state file if one was given. With --help it prints the help and returns nil.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	srv := emulator.New(c.opts)
	if c.stateFile != "" {
		if err := loadState(srv, c.stateFile); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	if c.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("loading TLS key pair: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
		scheme = "https"
	}
	b := srv.Bootstrap()
	fmt.Fprintf(stdout, "url: %s://%s\nclient_id: %s\nclient_secret: %s\ntenant_id: %s\nroot_tenant_id: %s\n",
		scheme, ln.Addr(), b.ClientID, b.ClientSecret, b.TenantID, b.RootTenantID)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdownCtx)
	if c.stateFile != "" {
		return saveState(srv, c.stateFile)
	}
	return nil
}

func loadState(srv *emulator.Server, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := srv.LoadState(f); err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	return nil
}

// saveState writes through a temporary file so a crash mid-write never leaves a torn state file.
func saveState(srv *emulator.Server, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := srv.SaveState(tmp); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
