package v1alpha1_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var _ = Describe("User", func() {
	newUser := func(mutate func(*v1.UserSpec)) *v1.User {
		spec := v1.UserSpec{
			TenantRef: &v1.LocalReference{Name: "acme"},
			Login:     "ada",
			Contact:   v1.Contact{Email: "ada@acme.example"},
		}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.User{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("user"), Namespace: "default"}, Spec: spec}
	}

	It("accepts a good user and defaults to email activation", func() {
		u := newUser(nil)
		Expect(k8s.Create(ctx, u)).To(Succeed())
		got := &v1.User{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(u), got)).To(Succeed())
		Expect(got.Spec.Activation.Method).To(Equal(v1.ActivationEmail))
		Expect(*got.Spec.Enabled).To(BeTrue())
	})

	DescribeTable("refuses a bad user with a clear message",
		func(mutate func(*v1.UserSpec), fragments ...string) {
			expectRefused(newUser(mutate), fragments...)
		},
		Entry("neither tenantRef nor tenantID", func(s *v1.UserSpec) { s.TenantRef = nil },
			"set exactly one of tenantRef and tenantID"),
		Entry("both tenantRef and tenantID", func(s *v1.UserSpec) { s.TenantID = someUUID },
			"set exactly one of tenantRef and tenantID"),
		Entry("no email", func(s *v1.UserSpec) { s.Contact = v1.Contact{Firstname: "Ada"} },
			"contact.email is required"),
		Entry("a login with a space", func(s *v1.UserSpec) { s.Login = "ada lovelace" },
			"spec.login"),
		Entry("a password activation without a Secret", func(s *v1.UserSpec) { s.Activation.Method = v1.ActivationPassword },
			"activation.method Password needs passwordSecretRef"),
		Entry("an unknown activation method", func(s *v1.UserSpec) { s.Activation.Method = "Carrier pigeon" },
			"spec.activation.method"),
		Entry("a role that is no role id", func(s *v1.UserSpec) { s.Roles = []string{"Company Admin"} },
			"spec.roles"),
		Entry("a role the server does not have", func(s *v1.UserSpec) { s.Roles = []string{"super_admin"} },
			"spec.roles[0]", "company_admin"),
		Entry("a notification the server does not have", func(s *v1.UserSpec) { s.Notifications = []string{"sms"} },
			"spec.notifications[0]", "quota"),
		Entry("a business type the server does not have", func(s *v1.UserSpec) { s.BusinessTypes = []string{"decision_maker"} },
			"spec.businessTypes[0]", "buyer"),
	)

	It("keeps login and businessTypes as they were created", func() {
		u := newUser(func(s *v1.UserSpec) { s.BusinessTypes = []string{"buyer"} })
		Expect(k8s.Create(ctx, u)).To(Succeed())

		changed := u.DeepCopy()
		changed.Spec.Login = "grace"
		err := k8s.Update(ctx, changed)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("login cannot be changed"))

		changed = u.DeepCopy()
		changed.Spec.BusinessTypes = nil
		err = k8s.Update(ctx, changed)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("businessTypes are set when the user is created"))
	})
})
