package connection_test

import (
	"context"
	"io"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/operator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

const operatorNamespace = testenv.OperatorNamespace

var (
	ctx    context.Context
	env    *testenv.Env
	k8s    client.Client
	emu    *emulator.Server
	emuURL string
	// logs holds everything the manager logged, to prove no secret is in it.
	logs *gbytes.Buffer
)

func TestConnection(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "connection controllers suite")
}

var _ = BeforeSuite(func() {
	logs = gbytes.NewBuffer()
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())

	var err error
	env, err = testenv.Start(emulator.Options{})
	Expect(err).NotTo(HaveOccurred(), "envtest needs KUBEBUILDER_ASSETS: run through `make test`")
	DeferCleanup(env.Stop)
	k8s, emu, emuURL = env.K8s, env.Emulator, env.URL

	done, err := env.StartManager(ctx, operator.Options{})
	Expect(err).NotTo(HaveOccurred())
	// Runs before env.Stop: the API server stops only once nobody watches.
	DeferCleanup(func() {
		cancel()
		Eventually(done).WithTimeout(time.Minute).Should(Receive())
	})
})
