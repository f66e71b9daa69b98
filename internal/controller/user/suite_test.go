package user_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
	// logs holds everything the manager logged, to prove no password is in it.
	logs *gbytes.Buffer
)

func TestUser(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "User controller suite")
}

var _ = BeforeSuite(func() {
	suite, logs = testenv.StartSuite()
	ctx, emu = suite.Ctx, suite.Emulator
})

// customerOn creates a customer Tenant on the connection and waits for it.
func customerOn(conn string) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("customer"), Namespace: "default"},
		Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer},
	}
	ExpectWithOffset(1, suite.K8s.Create(ctx, t)).To(Succeed())
	return testenv.ExpectReady(suite, t)
}

// userIn returns a User of tenant t with a unique login, not yet created.
func userIn(t *v1.Tenant, mutate func(*v1.User)) *v1.User {
	name := testenv.Uniq("user")
	u := &v1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace},
		Spec: v1.UserSpec{
			TenantRef: &v1.LocalReference{Name: t.Name},
			Login:     name,
			Contact:   v1.Contact{Email: name + "@acme.example", Firstname: "Ada", Lastname: "Admin"},
		},
	}
	if mutate != nil {
		mutate(u)
	}
	return u
}

func remoteUser(id string) emulator.User {
	u, ok := emu.User(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "user %s is not on the server", id)
	return u
}

// rolesOn lists the role ids the user holds on tenantID.
func rolesOn(id, tenantID string) []string {
	var roles []string
	for _, p := range remoteUser(id).AccessPolicies {
		if p.TenantID == tenantID {
			roles = append(roles, p.RoleID)
		}
	}
	return roles
}

// loginsOnServer counts the users (deleted ones aside) with that login.
func loginsOnServer(login string) int {
	n := 0
	for _, u := range emu.Users() {
		if u.Login == login && u.DeletedAt == nil {
			n++
		}
	}
	return n
}

// password is what the server holds as the user's password ("" for none).
func password(id string) string {
	p, _ := emu.Password(id)
	return p
}
