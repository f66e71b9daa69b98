package apiclient_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
	// logs holds everything the manager logged, to prove no secret is in it.
	logs *gbytes.Buffer
)

func TestApiClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ApiClient controller suite")
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

// clientOf returns an ApiClient of tenant t, not yet created.
func clientOf(t *v1.Tenant, mutate func(*v1.ApiClient)) *v1.ApiClient {
	name := testenv.Uniq("integration")
	c := &v1.ApiClient{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace},
		Spec:       v1.ApiClientSpec{TenantRef: &v1.LocalReference{Name: t.Name}, SecretName: name + "-credentials"},
	}
	if mutate != nil {
		mutate(c)
	}
	return c
}

// secretOf reads the ApiClient's Secret.
func secretOf(g Gomega, c *v1.ApiClient) *corev1.Secret {
	s := &corev1.Secret{}
	g.Expect(suite.K8s.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.Spec.SecretName}, s)).To(Succeed())
	return s
}

// tokenWith asks the emulator for a token with the Secret's credentials,
// the way an integration would, and returns the tenant they act in.
func tokenWith(s *corev1.Secret) (string, error) {
	c, err := accountserver.New(accountserver.Config{
		URL:          string(s.Data["url"]),
		ClientID:     string(s.Data["client_id"]),
		ClientSecret: string(s.Data["client_secret"]),
	})
	if err != nil {
		return "", err
	}
	if _, err := c.Token(ctx); err != nil {
		return "", err
	}
	return c.WhoAmI(ctx)
}

// liveClientsOf lists the clients on the server that the object made
// (their names end with its UID), deleted ones aside.
func liveClientsOf(c *v1.ApiClient) []emulator.APIClient {
	var out []emulator.APIClient
	for _, cl := range emu.Clients() {
		name, _ := cl.Data["client_name"].(string)
		if cl.DeletedAt == nil && strings.HasSuffix(name, "["+string(c.UID)+"]") {
			out = append(out, cl)
		}
	}
	return out
}

func remoteClient(id string) emulator.APIClient {
	cl, ok := emu.Client(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "client %s is not on the server", id)
	return cl
}
