package tenant_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	env   *testenv.Env
	k8s   client.Client
	emu   *emulator.Server
	boot  emulator.Bootstrap
	logs  *gbytes.Buffer
)

func TestTenant(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Tenant controller suite")
}

var _ = BeforeSuite(func() {
	suite, logs = testenv.StartSuite()
	ctx, env, k8s, emu, boot = suite.Ctx, suite.Env, suite.K8s, suite.Emulator, suite.Boot
})

func uniq(prefix string) string { return testenv.Uniq(prefix) }

func connection(mutate func(*v1.ClusterAccountServer)) (name, clientID string) {
	return suite.Connection(mutate)
}

func tenantOn(conn, name string, kind v1.TenantKind, mutate func(*v1.Tenant)) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: kind},
	}
	if mutate != nil {
		mutate(t)
	}
	return t
}

func get(t *v1.Tenant) func(Gomega) *v1.Tenant {
	return func(g Gomega) *v1.Tenant { return testenv.Fresh(suite, g, t) }
}

func condition(t *v1.Tenant, condType string) func(Gomega) *metav1.Condition {
	return testenv.Condition(suite, t, condType)
}

func expectReady(t *v1.Tenant) *v1.Tenant { return testenv.ExpectReady(suite, t) }

func expectStalled(t *v1.Tenant, reason string) *metav1.Condition {
	return testenv.ExpectStalled(suite, t, reason)
}

func expectGone(t *v1.Tenant) { testenv.ExpectGone(suite, t) }

func modify(t *v1.Tenant, change func(*v1.Tenant)) { testenv.Modify(suite, t, change) }

func requestsBy(clientID string) []emulator.RequestRecord { return suite.RequestsBy(clientID) }

func writesBy(clientID string) []emulator.RequestRecord { return suite.WritesBy(clientID) }

// remoteTenant reads a tenant as the emulator holds it.
func remoteTenant(id string) emulator.Tenant {
	t, ok := emu.Tenant(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "tenant %s is not on the server", id)
	return t
}

// namedOnServer counts the tenants (deleted ones aside) of that name.
func namedOnServer(name string) int {
	n := 0
	for _, t := range emu.Tenants() {
		if t.Name == name && t.DeletedAt == nil {
			n++
		}
	}
	return n
}
