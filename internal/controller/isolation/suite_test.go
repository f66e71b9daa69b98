// Package isolation_test shows what keeps namespaces that share a
// ClusterAccountServer apart: one owner per remote object in the cluster,
// and no reaching into a subtree another namespace manages.
package isolation_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
)

func TestIsolation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Namespace isolation suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
	ctx = suite.Ctx
})

// namespace creates a namespace of its own for a spec.
func namespace(prefix string) string { return suite.Namespace(prefix) }

// newTenant is a customer Tenant on connection conn in namespace ns.
func newTenant(conn, ns, name string, mutate func(*v1.Tenant)) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer, DisplayName: testenv.Uniq(name)},
	}
	if mutate != nil {
		mutate(t)
	}
	return t
}

// newUser is a User with a password-less email activation in ns.
func newUser(ns, name string, mutate func(*v1.User)) *v1.User {
	u := &v1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.UserSpec{
			Login:      testenv.Uniq("login"),
			Contact:    v1.Contact{Email: name + "@example.com", Firstname: "Ada", Lastname: "Admin"},
			Activation: v1.Activation{Method: v1.ActivationEmail},
		},
	}
	if mutate != nil {
		mutate(u)
	}
	return u
}
