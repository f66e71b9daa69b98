package harness

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// ControlPlane is an envtest control plane with the operator's CRDs, as
// cmd/bench and test/chaos use it: a kubeconfig for the manager child
// processes and an unthrottled client for the program itself.
type ControlPlane struct {
	Env *envtest.Environment
	// Kubeconfig is the absolute path of a kubeconfig of an admin user
	// (system:masters), for bin/manager.
	Kubeconfig string
	// Unthrottled is the admin config without a client-side rate limit, for the
	// program's own client and caches, which handle thousands of objects.
	Unthrottled *rest.Config
	// Client is a client of Unthrottled.
	Client client.Client
}

// StartControlPlane starts the control plane (run from the repository
// root: CRDs from config/crd/bases) and writes the kubeconfig of user into
// workDir. It returns the ControlPlane also with an error, for Env.Stop to
// stop what did start. gogc, when not empty, is the GOGC of the control plane's
// processes only, not of the managers started later.
func StartControlPlane(workDir, user, gogc string) (*ControlPlane, error) {
	cp := &ControlPlane{Env: &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join("config", "crd", "bases")}, ErrorIfCRDPathMissing: true}}
	restore := func() {}
	if gogc != "" {
		restore = setenvTemporarily("GOGC", gogc)
	}
	cfg, err := cp.Env.Start()
	restore()
	if err != nil {
		return cp, fmt.Errorf("starting the control plane: %w", err)
	}
	u, err := cp.Env.AddUser(envtest.User{Name: user, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return cp, err
	}
	kc, err := u.KubeConfig()
	if err != nil {
		return cp, err
	}
	if cp.Kubeconfig, err = filepath.Abs(filepath.Join(workDir, "kubeconfig")); err != nil {
		return cp, err
	}
	if err := os.WriteFile(cp.Kubeconfig, kc, 0o600); err != nil {
		return cp, err
	}
	cp.Unthrottled = rest.CopyConfig(cfg)
	cp.Unthrottled.QPS, cp.Unthrottled.Burst = -1, 0
	if cp.Client, err = client.New(cp.Unthrottled, client.Options{Scheme: operator.NewScheme()}); err != nil {
		return cp, err
	}
	return cp, nil
}

// setenvTemporarily sets an environment variable for the processes started
// until the returned function puts the old value back.
func setenvTemporarily(key, value string) func() {
	old, had := os.LookupEnv(key)
	_ = os.Setenv(key, value)
	return func() {
		if had {
			_ = os.Setenv(key, old)
		} else {
			_ = os.Unsetenv(key)
		}
	}
}
