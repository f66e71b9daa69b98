package v1alpha1_test

import (
	"strings"

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
		Entry("a tenantID in capitals", func(s *v1.UserSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) },
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("a tenantRef without a name", func(s *v1.UserSpec) { s.TenantRef = &v1.LocalReference{} },
			"spec.tenantRef.name", "name must not be empty"),
		Entry("no email", func(s *v1.UserSpec) { s.Contact = v1.Contact{Firstname: "Ada"} },
			"spec.contact.email: Required value: contact.email is required"),
		Entry("an email that is no address", func(s *v1.UserSpec) { s.Contact.Email = "ada at acme" },
			"spec.contact.email", "contact.email must be an email address"),
		Entry("an empty login", func(s *v1.UserSpec) { s.Login = "" },
			"spec.login", "login must not be empty or contain whitespace"),
		Entry("a login with a space", func(s *v1.UserSpec) { s.Login = "ada lovelace" },
			"spec.login", "login must not be empty or contain whitespace"),
		Entry("a language that is no locale", func(s *v1.UserSpec) { s.Language = "de_DE.UTF-8" },
			"spec.language", "language must be a locale such as en, de or pt-BR"),
		Entry("a password activation without a Secret", func(s *v1.UserSpec) { s.Activation.Method = v1.ActivationPassword },
			"activation.method Password needs passwordSecretRef"),
		Entry("a password Secret without a key", func(s *v1.UserSpec) {
			s.Activation = v1.Activation{Method: v1.ActivationPassword, PasswordSecretRef: &v1.LocalSecretKeySelector{Name: "ada-password"}}
		}, "spec.activation.passwordSecretRef.key", "the Secret's key must not be empty"),
		Entry("an unknown activation method", func(s *v1.UserSpec) { s.Activation.Method = "Carrier pigeon" },
			"spec.activation.method", "activation.method must be Email, Password or None"),
		Entry("a role that is no role id", func(s *v1.UserSpec) { s.Roles = []string{"Company Admin"} },
			"spec.roles[0]", "roles must be role ids the server knows"),
		Entry("a role the server does not have", func(s *v1.UserSpec) { s.Roles = []string{"company_admin", "super_admin"} },
			"spec.roles[1]", "roles must be role ids the server knows", "company_admin"),
		Entry("a notification the server does not have", func(s *v1.UserSpec) { s.Notifications = []string{"sms"} },
			"spec.notifications[0]", "notifications must be ones the server knows", "quota"),
		Entry("a business type the server does not have", func(s *v1.UserSpec) { s.BusinessTypes = []string{"decision_maker"} },
			"spec.businessTypes[0]", "businessTypes can only be buyer"),
	)

	DescribeTable("refuses a user without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(newUser(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
		Entry("no login", []string{"spec", "login"}, "spec.login: Required value: login is required"),
		Entry("no contact", []string{"spec", "contact"}, "spec.contact.email: Required value: contact.email is required"),
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
