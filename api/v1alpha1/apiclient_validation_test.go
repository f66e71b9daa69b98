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

var _ = Describe("ApiClient", func() {
	newClient := func(mutate func(*v1.ApiClientSpec)) *v1.ApiClient {
		spec := v1.ApiClientSpec{TenantRef: &v1.LocalReference{Name: "acme"}, SecretName: "acme-backup-credentials"}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.ApiClient{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("client"), Namespace: "default"}, Spec: spec}
	}

	It("accepts a good client and enables it by default", func() {
		c := newClient(nil)
		Expect(k8s.Create(ctx, c)).To(Succeed())
		got := &v1.ApiClient{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(c), got)).To(Succeed())
		Expect(got.Spec.Enabled).To(Equal(ptr.To(true)))
	})

	DescribeTable("refuses a bad client with a clear message",
		func(c *v1.ApiClient, fragments ...string) { expectRefused(c, fragments...) },
		Entry("neither tenantRef nor tenantID", newClient(func(s *v1.ApiClientSpec) { s.TenantRef = nil }),
			"set exactly one of tenantRef and tenantID"),
		Entry("both tenantRef and tenantID", newClient(func(s *v1.ApiClientSpec) { s.TenantID = someUUID }),
			"set exactly one of tenantRef and tenantID"),
		Entry("a tenantID in capitals", newClient(func(s *v1.ApiClientSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) }),
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("an empty secretName", newClient(func(s *v1.ApiClientSpec) { s.SecretName = "" }),
			"spec.secretName", "secretName must be a Secret name"),
		Entry("a secretName that is no object name", newClient(func(s *v1.ApiClientSpec) { s.SecretName = "Acme Credentials" }),
			"spec.secretName", "secretName must be a Secret name: lowercase letters, digits, '-' and '.'"),
		Entry("ObserveOnly without importID", newClient(func(s *v1.ApiClientSpec) { s.ManagementPolicy = v1.ManagementObserveOnly }),
			"managementPolicy ObserveOnly needs importID"),
	)

	DescribeTable("refuses a client without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(newClient(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
		Entry("no secretName", []string{"spec", "secretName"}, "spec.secretName: Required value: secretName is required"),
	)

	It("keeps its tenant and Secret, and lets the rest change", func() {
		c := newClient(nil)
		Expect(k8s.Create(ctx, c)).To(Succeed())
		update := func(change func(*v1.ApiClient)) error {
			got := &v1.ApiClient{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(c), got)).To(Succeed())
			change(got)
			return k8s.Update(ctx, got)
		}

		err := update(func(c *v1.ApiClient) { c.Spec.TenantRef = &v1.LocalReference{Name: "globex"} })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("an API client cannot move to another tenant"))

		err = update(func(c *v1.ApiClient) { c.Spec.TenantRef, c.Spec.TenantID = nil, someUUID })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("an API client cannot move to another tenant"))

		err = update(func(c *v1.ApiClient) { c.Spec.SecretName = "other" })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("secretName cannot be changed"))

		Expect(update(func(c *v1.ApiClient) {
			c.Spec.Enabled = ptr.To(false)
			c.Spec.DisplayName = "Acme backup integration"
		})).To(Succeed())
	})
})
