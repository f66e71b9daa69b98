package registrationtoken_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
	// logs holds everything the manager logged, to prove no token is in it.
	logs *gbytes.Buffer
)

func TestRegistrationToken(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "RegistrationToken controller suite")
}

var _ = BeforeSuite(func() {
	suite, logs = testenv.StartSuite()
	ctx, emu = suite.Ctx, suite.Emulator
})

// The token appears nowhere but its Secret: every token the server issued
// during the suite is looked for in the manager's logs, in every event, and
// in the status (conditions included) of every RegistrationToken left.
var _ = AfterSuite(func() {
	tokens := emu.RegistrationTokens("")
	Expect(tokens).NotTo(BeEmpty(), "the suite issued tokens to look for")
	var places []string
	places = append(places, string(logs.Contents()))
	evs := &eventsv1.EventList{}
	Expect(suite.K8s.List(ctx, evs)).To(Succeed())
	for _, e := range evs.Items {
		places = append(places, e.Reason+" "+e.Note)
	}
	core := &corev1.EventList{}
	Expect(suite.K8s.List(ctx, core)).To(Succeed())
	for _, e := range core.Items {
		places = append(places, e.Reason+" "+e.Message)
	}
	all := &v1.RegistrationTokenList{}
	Expect(suite.K8s.List(ctx, all)).To(Succeed())
	for _, o := range all.Items {
		places = append(places, fmt.Sprintf("%+v %+v", o.Status, o.Annotations))
	}
	Expect(len(places)).To(BeNumerically(">", 3))
	for _, tok := range tokens {
		Expect(tok.Token).To(MatchRegexp(`^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`))
		for _, p := range places {
			Expect(strings.Contains(p, tok.Token)).To(BeFalse(), "token %d's value appears outside its Secret: %s", tok.ID, p)
		}
	}
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

// tokenOf returns a RegistrationToken of tenant t, not yet created.
func tokenOf(t *v1.Tenant, mutate func(*v1.RegistrationToken)) *v1.RegistrationToken {
	name := testenv.Uniq("agents")
	rt := &v1.RegistrationToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace},
		Spec:       v1.RegistrationTokenSpec{TenantRef: &v1.LocalReference{Name: t.Name}, SecretName: name + "-token"},
	}
	if mutate != nil {
		mutate(rt)
	}
	return rt
}

// secretOf reads the RegistrationToken's Secret.
func secretOf(g Gomega, rt *v1.RegistrationToken) *corev1.Secret {
	s := &corev1.Secret{}
	g.Expect(suite.K8s.Get(ctx, client.ObjectKey{Namespace: rt.Namespace, Name: rt.Spec.SecretName}, s)).To(Succeed())
	return s
}

// liveTokens lists the tenant's tokens on the server that are not revoked.
func liveTokens(tenantID string) []emulator.RegistrationTokenInfo {
	var out []emulator.RegistrationTokenInfo
	for _, t := range emu.RegistrationTokens(tenantID) {
		if t.RevokedAt == nil {
			out = append(out, t)
		}
	}
	return out
}

// remoteToken finds a token on the server by id.
func remoteToken(id string) emulator.RegistrationTokenInfo {
	for _, t := range emu.RegistrationTokens("") {
		if fmt.Sprint(t.ID) == id {
			return t
		}
	}
	Fail("token " + id + " is not on the server")
	return emulator.RegistrationTokenInfo{}
}

// eventsOf lists the reasons and notes of the events about an object.
func eventsOf(g Gomega, name string) []string {
	evs := &eventsv1.EventList{}
	g.Expect(suite.K8s.List(ctx, evs, client.InNamespace("default"))).To(Succeed())
	var out []string
	for _, e := range evs.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

func itoa(n int64) string { return fmt.Sprint(n) }
