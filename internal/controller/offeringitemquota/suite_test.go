package offeringitemquota_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
)

func TestOfferingItemQuota(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "OfferingItemQuota controller suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
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

func quotaFor(t *v1.Tenant, items ...v1.OfferingItemSpec) *v1.OfferingItemQuota {
	return &v1.OfferingItemQuota{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("quota"), Namespace: t.Namespace},
		Spec:       v1.OfferingItemQuotaSpec{TenantRef: &v1.LocalReference{Name: t.Name}, Items: items},
	}
}

func item(app, name string, value, overage *int64) v1.OfferingItemSpec {
	it := v1.OfferingItemSpec{Application: app, Name: name}
	if value != nil || overage != nil {
		it.Quota = &v1.QuotaSpec{Value: value, Overage: overage}
	}
	return it
}

// remoteItem is the tenant's Cyber Protection item as the emulator holds it.
func remoteItem(tenantID, name, infraID string) emulator.OfferingItem {
	for _, it := range emu.OfferingItems(tenantID) {
		if it.ApplicationID == emulator.CyberProtectionAppID && it.Name == name && ptr.Deref(it.InfraID, "") == infraID && it.DeletedAt == nil {
			return it
		}
	}
	Fail("no item " + name + " on tenant " + tenantID)
	return emulator.OfferingItem{}
}

func limit(v *float64) *int64 {
	if v == nil {
		return nil
	}
	return ptr.To(int64(*v))
}
