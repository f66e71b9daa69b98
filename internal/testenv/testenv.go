// Package testenv starts what the controller suites run against: an envtest
// control plane with the CRDs, an account server emulator on httptest, and
// managers running the operator's controllers. It is for tests only.
package testenv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// OperatorNamespace is the namespace the test managers run in.
const OperatorNamespace = operator.DefaultNamespace

// Env is a running control plane and emulator.
type Env struct {
	Config   *rest.Config
	K8s      client.Client // uncached: every read reaches the API server
	Emulator *emulator.Server
	URL      string // the emulator's base URL

	control *envtest.Environment
	http    *httptest.Server
	// apiWrites counts the managers' writes to the API server.
	apiWrites      atomic.Int64
	mu             sync.Mutex
	lastWrite      string
	writeLog       []APIWrite
	wireViolations []string
}

// APIWrite is one write a manager sent to the API server.
type APIWrite struct {
	Time   time.Time
	Method string
	Path   string
}

// Start starts the control plane, installs the CRDs and starts an emulator.
func Start(emu emulator.Options) (*Env, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	e := &Env{control: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}}
	cfg, err := e.control.Start()
	if err != nil {
		return nil, err
	}
	e.Config = cfg
	if e.K8s, err = client.New(cfg, client.Options{Scheme: operator.NewScheme()}); err != nil {
		return nil, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: OperatorNamespace}}
	if err := e.K8s.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	if emu.CheckResponse == nil {
		// Every answer the controller suites provoke must be one the real
		// server could give: StartSuite fails the suite otherwise.
		emu.CheckResponse = e.recordWireViolation
	}
	e.Emulator = emulator.New(emu)
	e.http = httptest.NewServer(e.Emulator)
	e.URL = e.http.URL
	return e, nil
}

func (e *Env) recordWireViolation(r emulator.ResponseReport) {
	if r.Violation == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wireViolations = append(e.wireViolations, r.Violation.Error())
}

// WireViolations lists the emulator's answers that did not match the
// official wire schema (none, unless the emulator is wrong).
func (e *Env) WireViolations() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.wireViolations...)
}

// Stop stops the emulator and the control plane.
func (e *Env) Stop() error {
	e.http.Close()
	return e.control.Stop()
}

// APIWrites is how many writes (anything but GET, LIST and WATCH) the
// managers sent to the API server so far.
func (e *Env) APIWrites() int64 { return e.apiWrites.Load() }

// APIWriteLog lists the managers' writes to the API server so far, oldest
// first, to tell whose they were.
func (e *Env) APIWriteLog() []APIWrite {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]APIWrite(nil), e.writeLog...)
}

// LastAPIWrite names the managers' latest write to the API server, to say
// what broke a quiet period.
func (e *Env) LastAPIWrite() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastWrite
}

// StartManager runs a manager with every controller until ctx ends, and
// returns a channel that yields its exit error.
func (e *Env) StartManager(ctx context.Context, opts operator.Options) (<-chan error, error) {
	cfg := rest.CopyConfig(e.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method != http.MethodGet {
				e.apiWrites.Add(1)
				e.mu.Lock()
				e.lastWrite = r.Method + " " + r.URL.Path
				e.writeLog = append(e.writeLog, APIWrite{Time: time.Now(), Method: r.Method, Path: r.URL.Path})
				e.mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
	})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  operator.CacheOptions(nil, ""),
		// Several managers run in one test process, one after another.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, err
	}
	if opts.Namespace == "" {
		opts.Namespace = OperatorNamespace
	}
	if err := operator.Setup(mgr, opts); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return done, nil
}

// Connection creates a Secret with the given credentials and a
// ClusterAccountServer open to every namespace, named name.
func (e *Env) Connection(ctx context.Context, name, clientID, clientSecret string, mutate func(*v1.ClusterAccountServer)) (*v1.ClusterAccountServer, error) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-credentials", Namespace: OperatorNamespace},
		StringData: map[string]string{conn.KeyClientID: clientID, conn.KeyClientSecret: clientSecret},
	}
	if err := e.K8s.Create(ctx, secret); err != nil {
		return nil, err
	}
	cas := &v1.ClusterAccountServer{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.ClusterAccountServerSpec{
			AccountServerSpec: v1.AccountServerSpec{URL: e.URL, CredentialsSecretRef: v1.SecretReference{Name: secret.Name}},
			AllowedNamespaces: &metav1.LabelSelector{},
		},
	}
	if mutate != nil {
		mutate(cas)
	}
	return cas, e.K8s.Create(ctx, cas)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
