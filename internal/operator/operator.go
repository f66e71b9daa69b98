// Package operator wires the controllers of tenant-operator into a manager.
// cmd/main.go and cmd/devenv share it, so the demo runs exactly what ships.
package operator

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"

	accountsv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/apiclient"
	connectionctrl "github.com/tenant-operator/tenant-operator/internal/controller/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/location"
	"github.com/tenant-operator/tenant-operator/internal/controller/offeringitemquota"
	"github.com/tenant-operator/tenant-operator/internal/controller/registrationtoken"
	"github.com/tenant-operator/tenant-operator/internal/controller/storage"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/controller/usagereport"
	"github.com/tenant-operator/tenant-operator/internal/controller/user"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// DefaultNamespace is where the operator runs, and where a
// ClusterAccountServer's Secret is looked up when its reference names no
// namespace.
const DefaultNamespace = "tenant-operator-system"

// Options configure the controllers.
type Options struct {
	// Namespace the operator runs in.
	Namespace string
	// ConfigureClient, when set, adjusts every account server client's
	// config before it is built (tests inject clocks and HTTP clients).
	ConfigureClient func(*accountserver.Config)
	// Poll finds drift the old way, by every object reading itself once
	// per resync interval (--drift-detection=poll), instead of through the
	// connections' remote watches and batched reads.
	Poll bool
	// DefaultResyncInterval applies to connections whose spec sets no
	// resyncInterval; zero means 10h (10m with Poll).
	DefaultResyncInterval time.Duration
	// DefaultDriftInterval applies to connections whose spec sets no
	// driftInterval; zero means 30s.
	DefaultDriftInterval time.Duration
	// AfterTenantCreate, when set, runs between a tenant's create request
	// and the write of its status.id (crash-safety tests stop the manager
	// there).
	AfterTenantCreate func(*accountsv1alpha1.Tenant)
	// ReportNotReadyRetry is how soon a UsageReport the server refused
	// during its nightly window is created again; zero means 5m.
	ReportNotReadyRetry time.Duration
}

// NewScheme returns the scheme with the built-in types and this group's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(accountsv1alpha1.AddToScheme(s))
	return s
}

// Setup registers every controller with the manager.
func Setup(mgr ctrl.Manager, opts Options) error {
	registry := &connection.Registry{
		Reader:            mgr.GetClient(),
		SecretReader:      mgr.GetAPIReader(),
		OperatorNamespace: opts.Namespace,
		Logger:            mgr.GetLogger().WithName("accountserver"),
		Configure:         opts.ConfigureClient,
		DefaultResync:     opts.DefaultResyncInterval,
		DefaultDrift:      opts.DefaultDriftInterval,
	}
	var drift managed.Drift
	if opts.Poll {
		if registry.DefaultResync == 0 {
			registry.DefaultResync = connection.PollResyncInterval
		}
	} else {
		drift = managed.Drift{Watch: &remotewatch.Hub{Log: mgr.GetLogger().WithName("remotewatch")}, Batch: true}
		if err := mgr.Add(drift.Watch); err != nil {
			return fmt.Errorf("remote watch: %w", err)
		}
	}
	if err := connectionctrl.Setup(mgr, registry, drift.Watch); err != nil {
		return fmt.Errorf("connection controllers: %w", err)
	}
	if err := tenant.Setup(mgr, registry, drift, opts.AfterTenantCreate); err != nil {
		return fmt.Errorf("tenant controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, user.Kind); err != nil {
		return fmt.Errorf("user controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, offeringitemquota.Kind); err != nil {
		return fmt.Errorf("offeringitemquota controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, usagereport.Kind(opts.ReportNotReadyRetry)); err != nil {
		return fmt.Errorf("usagereport controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, apiclient.Kind); err != nil {
		return fmt.Errorf("apiclient controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, registrationtoken.Kind); err != nil {
		return fmt.Errorf("registrationtoken controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, location.Kind); err != nil {
		return fmt.Errorf("location controller: %w", err)
	}
	if err := tenant.Register(mgr, registry, drift, storage.Kind); err != nil {
		return fmt.Errorf("storage controller: %w", err)
	}
	// tenant_operator_objects{kind, ready}: counted from the cache at scrape time.
	if err := metrics.Register(mgr.GetCache(), mgr.GetLogger().WithName("metrics")); err != nil {
		return fmt.Errorf("object metrics: %w", err)
	}
	return nil
}
