package v1alpha1_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var _ = Describe("RegistrationToken", func() {
	newToken := func(mutate func(*v1.RegistrationTokenSpec)) *v1.RegistrationToken {
		spec := v1.RegistrationTokenSpec{TenantRef: &v1.LocalReference{Name: "acme"}, SecretName: "acme-agent-token"}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.RegistrationToken{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("token"), Namespace: "default"}, Spec: spec}
	}
	d := func(v time.Duration) *metav1.Duration { return &metav1.Duration{Duration: v} }

	It("accepts a good token and defaults its lifetime to 720h", func() {
		t := newToken(nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		got := &v1.RegistrationToken{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
		Expect(got.Spec.ExpiresIn).To(Equal(d(720 * time.Hour)))
		Expect(got.Spec.RenewBefore).To(BeNil(), "renewBefore is a third of expiresIn, left to the controller")
	})

	It("accepts the shortest and the longest lifetime, and a renewBefore just under it", func() {
		Expect(k8s.Create(ctx, newToken(func(s *v1.RegistrationTokenSpec) { s.ExpiresIn, s.RenewBefore = d(time.Minute), d(59*time.Second) }))).To(Succeed())
		Expect(k8s.Create(ctx, newToken(func(s *v1.RegistrationTokenSpec) { s.ExpiresIn = d(8760 * time.Hour) }))).To(Succeed())
		Expect(k8s.Create(ctx, newToken(func(s *v1.RegistrationTokenSpec) {
			s.Scopes = []string{"urn:acronis.com:tenant-id:" + someUUID + ":backup_agent_admin"}
		}))).To(Succeed())
	})

	DescribeTable("refuses a bad token with a clear message",
		func(t *v1.RegistrationToken, fragments ...string) { expectRefused(t, fragments...) },
		Entry("neither tenantRef nor tenantID", newToken(func(s *v1.RegistrationTokenSpec) { s.TenantRef = nil }),
			"set exactly one of tenantRef and tenantID"),
		Entry("both tenantRef and tenantID", newToken(func(s *v1.RegistrationTokenSpec) { s.TenantID = someUUID }),
			"set exactly one of tenantRef and tenantID"),
		Entry("a tenantID in capitals", newToken(func(s *v1.RegistrationTokenSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) }),
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("an empty secretName", newToken(func(s *v1.RegistrationTokenSpec) { s.SecretName = "" }),
			"spec.secretName", "secretName must be a Secret name"),
		Entry("a secretName that is no object name", newToken(func(s *v1.RegistrationTokenSpec) { s.SecretName = "Agent Token" }),
			"spec.secretName", "secretName must be a Secret name: lowercase letters, digits, '-' and '.'"),
		Entry("an importID", newToken(func(s *v1.RegistrationTokenSpec) { s.ImportID = someUUID }),
			"spec.importID", "a registration token cannot be imported: the operator makes its own tokens and renews them"),
		Entry("ObserveOnly", newToken(func(s *v1.RegistrationTokenSpec) { s.ManagementPolicy = v1.ManagementObserveOnly }),
			"spec.managementPolicy", "managementPolicy must be Managed: a registration token cannot be observed only"),
		Entry("a lifetime under a minute", newToken(func(s *v1.RegistrationTokenSpec) { s.ExpiresIn = d(59 * time.Second) }),
			"spec.expiresIn", "expiresIn must be between 1m and 8760h (a year), e.g. 720h"),
		Entry("a lifetime over a year", newToken(func(s *v1.RegistrationTokenSpec) { s.ExpiresIn = d(8761 * time.Hour) }),
			"spec.expiresIn", "expiresIn must be between 1m and 8760h (a year), e.g. 720h"),
		Entry("renewBefore as long as expiresIn", newToken(func(s *v1.RegistrationTokenSpec) { s.ExpiresIn, s.RenewBefore = d(time.Hour), d(time.Hour) }),
			"spec.renewBefore", "renewBefore must be shorter than expiresIn (default 720h)"),
		Entry("renewBefore longer than expiresIn", newToken(func(s *v1.RegistrationTokenSpec) { s.ExpiresIn, s.RenewBefore = d(time.Hour), d(2*time.Hour) }),
			"spec.renewBefore", "renewBefore must be shorter than expiresIn (default 720h)"),
		Entry("renewBefore as long as the default expiresIn", newToken(func(s *v1.RegistrationTokenSpec) { s.RenewBefore = d(720 * time.Hour) }),
			"spec.renewBefore", "renewBefore must be shorter than expiresIn (default 720h)"),
		Entry("a zero renewBefore", newToken(func(s *v1.RegistrationTokenSpec) { s.RenewBefore = d(0) }),
			"spec.renewBefore", "renewBefore must be positive, e.g. 240h"),
		Entry("an empty scope", newToken(func(s *v1.RegistrationTokenSpec) { s.Scopes = []string{""} }),
			"spec.scopes[0]", "a scope must not be empty"),
	)

	DescribeTable("refuses a token without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(newToken(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
		Entry("no secretName", []string{"spec", "secretName"}, "spec.secretName: Required value: secretName is required: the Secret the token is written to"),
	)

	It("keeps its tenant and Secret, and lets scopes and lifetime change", func() {
		t := newToken(nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		update := func(change func(*v1.RegistrationToken)) error {
			got := &v1.RegistrationToken{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
			change(got)
			return k8s.Update(ctx, got)
		}

		err := update(func(t *v1.RegistrationToken) { t.Spec.TenantRef = &v1.LocalReference{Name: "globex"} })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a registration token cannot move to another tenant; create a new RegistrationToken instead"))

		err = update(func(t *v1.RegistrationToken) { t.Spec.TenantRef, t.Spec.TenantID = nil, someUUID })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("a registration token cannot move to another tenant"))

		err = update(func(t *v1.RegistrationToken) { t.Spec.SecretName = "other" })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("secretName cannot be changed"))

		Expect(update(func(t *v1.RegistrationToken) {
			t.Spec.Scopes = []string{"urn:acronis.com:tenant-id:" + someUUID + ":backup_agent_admin"}
			t.Spec.ExpiresIn, t.Spec.RenewBefore = d(48*time.Hour), d(12*time.Hour)
		})).To(Succeed())
	})
})
