package v1alpha1_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var _ = Describe("Location", func() {
	newLocation := func(mutate func(*v1.LocationSpec)) *v1.Location {
		spec := v1.LocationSpec{TenantRef: &v1.LocalReference{Name: "acme"}}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.Location{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("location"), Namespace: "default"}, Spec: spec}
	}

	It("accepts a good location", func() {
		Expect(k8s.Create(ctx, newLocation(func(s *v1.LocationSpec) { s.DisplayName = "Frankfurt" }))).To(Succeed())
		Expect(k8s.Create(ctx, newLocation(func(s *v1.LocationSpec) {
			s.TenantRef, s.TenantID = nil, someUUID
			s.AccountServerRef = &v1.AccountServerReference{Name: "eu2"}
			s.ManagementPolicy, s.ImportID = v1.ManagementObserveOnly, someUUID
		}))).To(Succeed())
	})

	DescribeTable("refuses a bad location with a clear message",
		func(l *v1.Location, fragments ...string) { expectRefused(l, fragments...) },
		Entry("neither tenantRef nor tenantID", newLocation(func(s *v1.LocationSpec) { s.TenantRef = nil }),
			"set exactly one of tenantRef and tenantID"),
		Entry("both tenantRef and tenantID", newLocation(func(s *v1.LocationSpec) { s.TenantID = someUUID }),
			"set exactly one of tenantRef and tenantID"),
		Entry("a tenantID in capitals", newLocation(func(s *v1.LocationSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) }),
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("a tenantRef without a name", newLocation(func(s *v1.LocationSpec) { s.TenantRef = &v1.LocalReference{} }),
			"spec.tenantRef.name", "name must not be empty: it names an object in this namespace"),
		Entry("ObserveOnly without importID", newLocation(func(s *v1.LocationSpec) { s.ManagementPolicy = v1.ManagementObserveOnly }),
			"managementPolicy ObserveOnly needs importID: the location to observe"),
	)

	DescribeTable("refuses a location without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(newLocation(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
	)

	It("refuses an empty displayName with a clear message", func() {
		expectRefused(unstructuredObject(map[string]any{
			"apiVersion": v1.GroupVersion.String(), "kind": "Location",
			"metadata": map[string]any{"name": uniqueName("location"), "namespace": "default"},
			"spec":     map[string]any{"tenantRef": map[string]any{"name": "acme"}, "displayName": ""},
		}), "spec.displayName", "displayName must not be empty; leave it out to use metadata.name")
	})

	It("keeps its tenant and importID, and lets its name change", func() {
		l := newLocation(func(s *v1.LocationSpec) { s.ImportID = someUUID })
		Expect(k8s.Create(ctx, l)).To(Succeed())
		update := func(change func(*v1.Location)) error {
			got := &v1.Location{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(l), got)).To(Succeed())
			change(got)
			return k8s.Update(ctx, got)
		}

		err := update(func(l *v1.Location) { l.Spec.TenantRef = &v1.LocalReference{Name: "globex"} })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a location cannot move to another tenant; create a new Location instead"))

		err = update(func(l *v1.Location) { l.Spec.TenantRef, l.Spec.TenantID = nil, someUUID })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a location cannot move to another tenant"))

		err = update(func(l *v1.Location) { l.Spec.ImportID = "" })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("importID cannot be changed or removed once set"))

		Expect(update(func(l *v1.Location) { l.Spec.DisplayName = "Frankfurt 2" })).To(Succeed())
	})
})
