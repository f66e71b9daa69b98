package storage_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

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

func TestStorage(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Storage controller suite")
}

var _ = BeforeSuite(func() {
	suite, logs = testenv.StartSuite()
	ctx, emu = suite.Ctx, suite.Emulator
})

// tenantOn creates a Tenant of kind under parent (nil: the connection's
// tenant) and waits for it.
func tenantOn(conn string, kind v1.TenantKind, parent *v1.Tenant) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq(string(kind)), Namespace: "default"},
		Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: kind},
	}
	if parent != nil {
		t.Spec.ParentRef = &v1.LocalReference{Name: parent.Name}
	}
	ExpectWithOffset(1, suite.K8s.Create(ctx, t)).To(Succeed())
	return testenv.ExpectReady(suite, t)
}

// locationOf creates a Location of tenant t and waits for it.
func locationOf(t *v1.Tenant) *v1.Location {
	l := &v1.Location{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("location"), Namespace: t.Namespace},
		Spec:       v1.LocationSpec{TenantRef: &v1.LocalReference{Name: t.Name}},
	}
	ExpectWithOffset(1, suite.K8s.Create(ctx, l)).To(Succeed())
	return testenv.ExpectReady(suite, l)
}

// storageOf returns a backup Storage of tenant t in Location l, not yet
// created.
func storageOf(t *v1.Tenant, l *v1.Location, mutate func(*v1.Storage)) *v1.Storage {
	s := &v1.Storage{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("storage"), Namespace: t.Namespace},
		Spec: v1.StorageSpec{TenantRef: &v1.LocalReference{Name: t.Name}, LocationRef: &v1.LocalReference{Name: l.Name},
			URL: "https://storage.example.com", Capabilities: []v1.StorageCapability{v1.StorageBackup}},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

// remoteInfra is the storage as the emulator holds it.
func remoteInfra(id string) emulator.Infra {
	in, ok := emu.Infra(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "storage %s is not on the server", id)
	return in
}

// infrasNamed lists the storages of the location on the server with that
// name.
func infrasNamed(g Gomega, locationID, name string) []accountserver.Infra {
	ids, err := suite.Admin.LocationInfraIDs(ctx, locationID)
	g.Expect(err).NotTo(HaveOccurred())
	if len(ids) == 0 {
		return nil
	}
	all, err := suite.Admin.GetInfras(ctx, ids)
	g.Expect(err).NotTo(HaveOccurred())
	var out []accountserver.Infra
	for _, in := range all {
		if in.Name == name {
			out = append(out, in)
		}
	}
	return out
}

// storageItem is the tenant's Cyber Protection storage item of one storage
// as the emulator holds it; ok is false when it has none.
func storageItem(tenantID, infraID string) (emulator.OfferingItem, bool) {
	for _, it := range emu.OfferingItems(tenantID) {
		if it.ApplicationID == emulator.CyberProtectionAppID && it.Name == "storage" && ptr.Deref(it.InfraID, "") == infraID && it.DeletedAt == nil {
			return it, true
		}
	}
	return emulator.OfferingItem{}, false
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
