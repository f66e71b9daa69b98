package v1alpha1_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var _ = Describe("Storage", func() {
	newStorage := func(mutate func(*v1.StorageSpec)) *v1.Storage {
		spec := v1.StorageSpec{
			TenantRef: &v1.LocalReference{Name: "acme"}, LocationRef: &v1.LocalReference{Name: "frankfurt"},
			URL: "https://storage.example.com", Capabilities: []v1.StorageCapability{v1.StorageBackup},
		}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.Storage{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("storage"), Namespace: "default"}, Spec: spec}
	}

	It("accepts a good storage", func() {
		Expect(k8s.Create(ctx, newStorage(nil))).To(Succeed())
		Expect(k8s.Create(ctx, newStorage(func(s *v1.StorageSpec) {
			s.TenantRef, s.TenantID = nil, someUUID
			s.LocationRef, s.LocationID = nil, someUUID
			s.AccountServerRef = &v1.AccountServerReference{Name: "eu2"}
			s.URL = "s3+https://10.0.0.1:9000/bucket"
			s.Capabilities = []v1.StorageCapability{v1.StorageBackup, v1.StorageDisasterRecovery, v1.StorageFilesCloud, v1.StorageVCD}
			s.BackendType, s.ContentURL, s.ContentMobileURL = "ceph", "https://content.example.com", "https://m.example.com"
		}))).To(Succeed())
	})

	DescribeTable("refuses a bad storage with a clear message",
		func(st *v1.Storage, fragments ...string) { expectRefused(st, fragments...) },
		Entry("neither tenantRef nor tenantID", newStorage(func(s *v1.StorageSpec) { s.TenantRef = nil }),
			"set exactly one of tenantRef and tenantID"),
		Entry("both tenantRef and tenantID", newStorage(func(s *v1.StorageSpec) { s.TenantID = someUUID }),
			"set exactly one of tenantRef and tenantID"),
		Entry("a tenantID in capitals", newStorage(func(s *v1.StorageSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) }),
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("neither locationRef nor locationID", newStorage(func(s *v1.StorageSpec) { s.LocationRef = nil }),
			"set exactly one of locationRef and locationID"),
		Entry("both locationRef and locationID", newStorage(func(s *v1.StorageSpec) { s.LocationID = someUUID }),
			"set exactly one of locationRef and locationID"),
		Entry("a locationID in capitals", newStorage(func(s *v1.StorageSpec) { s.LocationRef, s.LocationID = nil, strings.ToUpper(someUUID) }),
			"spec.locationID", "locationID must be a lowercase UUID"),
		Entry("a locationRef without a name", newStorage(func(s *v1.StorageSpec) { s.LocationRef = &v1.LocalReference{} }),
			"spec.locationRef.name", "name must not be empty: it names an object in this namespace"),
		Entry("an empty url", newStorage(func(s *v1.StorageSpec) { s.URL = "" }),
			"spec.url", "url must be a URL such as https://storage.example.com"),
		Entry("a url without a scheme", newStorage(func(s *v1.StorageSpec) { s.URL = "storage.example.com" }),
			"spec.url", "url must be a URL such as https://storage.example.com"),
		Entry("a url with a space", newStorage(func(s *v1.StorageSpec) { s.URL = "https://storage.example.com/a b" }),
			"spec.url", "url must be a URL such as https://storage.example.com"),
		Entry("a url in capitals", newStorage(func(s *v1.StorageSpec) { s.URL = "HTTPS://storage.example.com" }),
			"spec.url", "url must be a URL such as https://storage.example.com"),
		Entry("no capabilities", newStorage(func(s *v1.StorageSpec) { s.Capabilities = []v1.StorageCapability{} }),
			"spec.capabilities: Required value: capabilities must list at least one of backup, disaster_recovery, files_cloud and vcd"),
		Entry("an unknown capability", newStorage(func(s *v1.StorageSpec) { s.Capabilities = []v1.StorageCapability{"archive"} }),
			"spec.capabilities[0]", "capabilities may hold backup, disaster_recovery, files_cloud and vcd"),
		Entry("a contentURL that is no URL", newStorage(func(s *v1.StorageSpec) { s.ContentURL = "content.example.com" }),
			"spec.contentURL", "contentURL must be a URL such as https://content.example.com"),
		Entry("a contentMobileURL that is no URL", newStorage(func(s *v1.StorageSpec) { s.ContentMobileURL = "m.example.com" }),
			"spec.contentMobileURL", "contentMobileURL must be a URL such as https://m.example.com"),
		Entry("ObserveOnly without importID", newStorage(func(s *v1.StorageSpec) { s.ManagementPolicy = v1.ManagementObserveOnly }),
			"managementPolicy ObserveOnly needs importID: the storage to observe"),
	)

	DescribeTable("refuses a storage without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(newStorage(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
		Entry("no url", []string{"spec", "url"}, "spec.url: Required value: url is required: the storage's address, e.g. https://storage.example.com"),
		Entry("no capabilities", []string{"spec", "capabilities"},
			"spec.capabilities: Required value: capabilities must list at least one of backup, disaster_recovery, files_cloud and vcd"),
	)

	It("refuses an empty displayName with a clear message", func() {
		expectRefused(unstructuredObject(map[string]any{
			"apiVersion": v1.GroupVersion.String(), "kind": "Storage",
			"metadata": map[string]any{"name": uniqueName("storage"), "namespace": "default"},
			"spec": map[string]any{"tenantRef": map[string]any{"name": "acme"}, "locationRef": map[string]any{"name": "frankfurt"},
				"url": "https://storage.example.com", "capabilities": []any{"backup"}, "displayName": ""},
		}), "spec.displayName", "displayName must not be empty; leave it out to use metadata.name")
	})

	It("keeps its tenant and importID, and lets its location, url and capabilities change", func() {
		st := newStorage(func(s *v1.StorageSpec) { s.ImportID = someUUID })
		Expect(k8s.Create(ctx, st)).To(Succeed())
		update := func(change func(*v1.Storage)) error {
			got := &v1.Storage{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(st), got)).To(Succeed())
			change(got)
			return k8s.Update(ctx, got)
		}

		err := update(func(s *v1.Storage) { s.Spec.TenantRef = &v1.LocalReference{Name: "globex"} })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a storage cannot move to another tenant; create a new Storage instead"))

		err = update(func(s *v1.Storage) { s.Spec.TenantRef, s.Spec.TenantID = nil, someUUID })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a storage cannot move to another tenant"))

		err = update(func(s *v1.Storage) { s.Spec.ImportID = "" })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("importID cannot be changed or removed once set"))

		Expect(update(func(s *v1.Storage) {
			s.Spec.LocationRef, s.Spec.LocationID = nil, someUUID
			s.Spec.URL = "https://storage2.example.com"
			s.Spec.Capabilities = []v1.StorageCapability{v1.StorageDisasterRecovery}
			s.Spec.DisplayName = "renamed"
		})).To(Succeed())
	})
})
