package location_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
	logs  *gbytes.Buffer
)

func TestLocation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Location controller suite")
}

var _ = BeforeSuite(func() {
	suite, logs = testenv.StartSuite()
	ctx, emu = suite.Ctx, suite.Emulator
})

// partnerOn creates a partner Tenant on the connection and waits for it.
func partnerOn(conn string) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("partner"), Namespace: "default"},
		Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantPartner},
	}
	ExpectWithOffset(1, suite.K8s.Create(ctx, t)).To(Succeed())
	return testenv.ExpectReady(suite, t)
}

// locationOf returns a Location of tenant t, not yet created.
func locationOf(t *v1.Tenant, mutate func(*v1.Location)) *v1.Location {
	l := &v1.Location{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("location"), Namespace: t.Namespace},
		Spec:       v1.LocationSpec{TenantRef: &v1.LocalReference{Name: t.Name}},
	}
	if mutate != nil {
		mutate(l)
	}
	return l
}

// remoteLocation is the location as the emulator holds it.
func remoteLocation(id string) emulator.Location {
	l, ok := emu.Location(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "location %s is not on the server", id)
	return l
}

// locationsNamed lists the tenant's locations on the server with that name.
func locationsNamed(g Gomega, tenantID, name string) []accountserver.Location {
	ids, err := suite.Admin.TenantLocationIDs(ctx, tenantID)
	g.Expect(err).NotTo(HaveOccurred())
	if len(ids) == 0 {
		return nil
	}
	all, err := suite.Admin.GetLocations(ctx, ids)
	g.Expect(err).NotTo(HaveOccurred())
	var out []accountserver.Location
	for _, l := range all {
		if l.Name == name {
			out = append(out, l)
		}
	}
	return out
}

// requestIndex is the position in the emulator's log of the first request
// by clientID with that method whose path ends with suffix; -1 when none.
func requestIndex(clientID, method, suffix string) int {
	for i, r := range suite.RequestsBy(clientID) {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			return i
		}
	}
	return -1
}
