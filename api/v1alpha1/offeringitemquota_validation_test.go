package v1alpha1_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var _ = Describe("OfferingItemQuota", func() {
	newQuota := func(mutate func(*v1.OfferingItemQuotaSpec)) *v1.OfferingItemQuota {
		spec := v1.OfferingItemQuotaSpec{
			TenantRef: &v1.LocalReference{Name: "acme"},
			Items:     []v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations", Quota: &v1.QuotaSpec{Value: ptr.To[int64](5)}}},
		}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.OfferingItemQuota{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("quota"), Namespace: "default"}, Spec: spec}
	}

	It("accepts good items and turns them on by default, checking usage", func() {
		q := newQuota(nil)
		Expect(k8s.Create(ctx, q)).To(Succeed())
		got := &v1.OfferingItemQuota{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(q), got)).To(Succeed())
		Expect(got.Spec.Items[0].Enabled).To(Equal(ptr.To(true)))
		Expect(got.Spec.CheckUsage).To(Equal(ptr.To(true)))
	})

	DescribeTable("refuses bad items with a clear message",
		func(mutate func(*v1.OfferingItemQuotaSpec), fragments ...string) {
			expectRefused(newQuota(mutate), fragments...)
		},
		Entry("no tenant", func(s *v1.OfferingItemQuotaSpec) { s.TenantRef = nil },
			"set exactly one of tenantRef and tenantID"),
		Entry("two tenants", func(s *v1.OfferingItemQuotaSpec) { s.TenantID = someUUID },
			"set exactly one of tenantRef and tenantID"),
		Entry("a tenantID in capitals", func(s *v1.OfferingItemQuotaSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) },
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("no items", func(s *v1.OfferingItemQuotaSpec) { s.Items = nil },
			"spec.items: Required value: items must list at least one offering item"),
		Entry("an empty list of items", func(s *v1.OfferingItemQuotaSpec) { s.Items = []v1.OfferingItemSpec{} },
			"spec.items: Required value: items must list at least one offering item"),
		Entry("an item without an application", func(s *v1.OfferingItemQuotaSpec) { s.Items[0].Application = "" },
			"spec.items[0].application", "application must not be empty"),
		Entry("an item without a name", func(s *v1.OfferingItemQuotaSpec) { s.Items[0].Name = "" },
			"spec.items[0].name", "name must not be empty: the offering item"),
		Entry("a negative quota", func(s *v1.OfferingItemQuotaSpec) { s.Items[0].Quota.Value = ptr.To[int64](-1) },
			"spec.items[0].quota.value", "quota.value must not be negative"),
		Entry("a negative overage", func(s *v1.OfferingItemQuotaSpec) { s.Items[0].Quota.Overage = ptr.To[int64](-1) },
			"spec.items[0].quota.overage", "quota.overage must not be negative"),
		Entry("an infraID that is no UUID", func(s *v1.OfferingItemQuotaSpec) { s.Items[0].InfraID = "default" },
			"spec.items[0].infraID", "infraID must be a lowercase UUID"),
		Entry("an item with both infraID and infraRef", func(s *v1.OfferingItemQuotaSpec) {
			s.Items[0].Name, s.Items[0].InfraID, s.Items[0].InfraRef = "storage", someUUID, &v1.LocalReference{Name: "backup-storage"}
		}, "spec.items[0]", "set at most one of infraID and infraRef"),
		Entry("an infraRef without a name", func(s *v1.OfferingItemQuotaSpec) {
			s.Items[0].Name, s.Items[0].InfraRef = "storage", &v1.LocalReference{}
		}, "spec.items[0].infraRef.name", "name must not be empty: it names an object in this namespace"),
		Entry("an edition without a name", func(s *v1.OfferingItemQuotaSpec) {
			s.Edition = &v1.EditionSpec{Application: "Cyber Protection"}
		}, "spec.edition.name", "edition.name must not be empty"),
	)

	It("accepts an item bound to a Storage by infraRef", func() {
		q := newQuota(func(s *v1.OfferingItemQuotaSpec) {
			s.Items = append(s.Items, v1.OfferingItemSpec{Application: "Cyber Protection", Name: "storage", InfraRef: &v1.LocalReference{Name: "backup-storage"}})
		})
		Expect(k8s.Create(ctx, q)).To(Succeed())
	})

	DescribeTable("refuses items without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(newQuota(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
		Entry("an item without an application", []string{"spec", "items", "0", "application"},
			"spec.items[0].application: Required value: application is required"),
		Entry("an item without a name", []string{"spec", "items", "0", "name"},
			"spec.items[0].name: Required value: name is required: the offering item"),
	)
})
