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

const someUUID = "0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"

var _ = Describe("Tenant", func() {
	newTenant := func(mutate func(*v1.TenantSpec)) *v1.Tenant {
		spec := v1.TenantSpec{
			ManagedSpec: v1.ManagedSpec{AccountServerRef: &v1.AccountServerReference{Name: "eu2"}},
			Kind:        v1.TenantCustomer,
		}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("tenant"), Namespace: "default"}, Spec: spec}
	}

	It("accepts a good tenant and fills in the defaults", func() {
		t := newTenant(func(s *v1.TenantSpec) {
			s.ParentID = someUUID
			s.Contact = &v1.Contact{Email: "admin@acme.example"}
		})
		Expect(k8s.Create(ctx, t)).To(Succeed())
		got := &v1.Tenant{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
		Expect(got.Spec.Enabled).To(Equal(ptr.To(true)))
		Expect(got.Spec.DeletionPolicy).To(Equal(v1.DeletionDelete))
		Expect(got.Spec.ManagementPolicy).To(Equal(v1.ManagementManaged))
		Expect(got.Spec.AccountServerRef.Kind).To(Equal("AccountServer"))
	})

	DescribeTable("refuses a bad tenant with a clear message",
		func(mutate func(*v1.TenantSpec), fragments ...string) {
			expectRefused(newTenant(mutate), fragments...)
		},
		Entry("an unknown kind", func(s *v1.TenantSpec) { s.Kind = "reseller" },
			"spec.kind", "kind must be partner, folder, customer or unit"),
		Entry("both parentRef and parentID", func(s *v1.TenantSpec) {
			s.ParentRef = &v1.LocalReference{Name: "p"}
			s.ParentID = someUUID
		}, "set at most one of parentRef and parentID"),
		Entry("a parentID that is no UUID", func(s *v1.TenantSpec) { s.ParentID = "not-a-uuid" },
			"spec.parentID", "parentID must be a lowercase UUID"),
		Entry("a parentID in capitals", func(s *v1.TenantSpec) { s.ParentID = strings.ToUpper(someUUID) },
			"spec.parentID", "parentID must be a lowercase UUID"),
		Entry("a parentRef without a name", func(s *v1.TenantSpec) { s.ParentRef = &v1.LocalReference{} },
			"spec.parentRef.name", "name must not be empty"),
		Entry("an importID that is no UUID", func(s *v1.TenantSpec) { s.ImportID = "ABC" },
			"spec.importID", "importID must be a lowercase UUID"),
		Entry("a contact email that is no address", func(s *v1.TenantSpec) { s.Contact = &v1.Contact{Email: "nobody"} },
			"spec.contact.email", "contact.email must be an email address"),
		Entry("a language that is no locale", func(s *v1.TenantSpec) { s.Language = "English" },
			"spec.language", "language must be a locale such as en, de or pt-BR"),
		Entry("an unknown customer type", func(s *v1.TenantSpec) { s.CustomerType = "reseller" },
			"spec.customerType", "customerType must be default, enterprise, consumer, small_office or ti_unified"),
		Entry("ObserveOnly without importID", func(s *v1.TenantSpec) { s.ManagementPolicy = v1.ManagementObserveOnly },
			"managementPolicy ObserveOnly needs importID"),
		Entry("an unknown management policy", func(s *v1.TenantSpec) { s.ManagementPolicy = "Watch" },
			"spec.managementPolicy", "managementPolicy must be Managed or ObserveOnly"),
		Entry("an unknown deletion policy", func(s *v1.TenantSpec) { s.DeletionPolicy = "Keep" },
			"spec.deletionPolicy", "deletionPolicy must be Delete or Orphan"),
		Entry("an unknown connection kind", func(s *v1.TenantSpec) { s.AccountServerRef.Kind = "Server" },
			"spec.accountServerRef.kind", "accountServerRef.kind must be AccountServer or ClusterAccountServer"),
		Entry("an unknown pricing mode", func(s *v1.TenantSpec) { s.Pricing = &v1.PricingSpec{Mode: "free"} },
			"spec.pricing.mode", "pricing.mode must be trial or production"),
		Entry("a currency in small letters", func(s *v1.TenantSpec) { s.Pricing = &v1.PricingSpec{Mode: v1.PricingTrial, Currency: "eur"} },
			"spec.pricing.currency", "pricing.currency must be three capital letters"),
		Entry("branding on a customer", func(s *v1.TenantSpec) { s.Branding = &v1.BrandingSpec{CompanyName: "Acme"} },
			"branding is available to partners and folders only"),
		Entry("branding on a unit", func(s *v1.TenantSpec) {
			s.Kind = v1.TenantUnit
			s.Branding = &v1.BrandingSpec{Enabled: ptr.To(false)}
		}, "branding is available to partners and folders only"),
		Entry("a logo from both a ConfigMap and a Secret", func(s *v1.TenantSpec) {
			s.Kind = v1.TenantPartner
			s.Branding = &v1.BrandingSpec{Logo: &v1.LogoSource{
				ConfigMapKeyRef: &v1.LocalConfigMapKeySelector{Name: "logo", Key: "logo.png"},
				SecretKeyRef:    &v1.LocalSecretKeySelector{Name: "logo", Key: "logo.png"},
			}}
		}, "set exactly one of configMapKeyRef and secretKeyRef"),
		Entry("a logo from nowhere", func(s *v1.TenantSpec) {
			s.Kind = v1.TenantFolder
			s.Branding = &v1.BrandingSpec{Logo: &v1.LogoSource{}}
		}, "set exactly one of configMapKeyRef and secretKeyRef"),
		Entry("a logo without its key", func(s *v1.TenantSpec) {
			s.Kind = v1.TenantPartner
			s.Branding = &v1.BrandingSpec{Logo: &v1.LogoSource{ConfigMapKeyRef: &v1.LocalConfigMapKeySelector{Name: "logo"}}}
		}, "spec.branding.logo.configMapKeyRef.key", "the ConfigMap's key must not be empty"),
		Entry("a color that is no hex triplet", func(s *v1.TenantSpec) {
			s.Kind = v1.TenantPartner
			s.Branding = &v1.BrandingSpec{Color: "#0A5FAA"}
		}, "spec.branding.color", "branding.color must be six hexadecimal digits without '#'"),
		Entry("an application listed twice", func(s *v1.TenantSpec) { s.Applications = []string{"Cyber Protection", "Cyber Protection"} },
			"spec.applications[1]", `Duplicate value: "Cyber Protection"`),
		Entry("an empty application name", func(s *v1.TenantSpec) { s.Applications = []string{""} },
			"spec.applications[0]", "applications must not list an empty name"),
	)

	DescribeTable("refuses a tenant without a required field with a clear message",
		func(mutate func(*v1.TenantSpec), path []string, fragments ...string) {
			expectRefused(without(newTenant(mutate), path...), fragments...)
		},
		Entry("no spec", nil, []string{"spec"},
			"spec: Required value: spec is required"),
		Entry("no kind", nil, []string{"spec", "kind"},
			"spec.kind: Required value: kind is required: partner, folder, customer or unit"),
		Entry("a connection without its name", nil, []string{"spec", "accountServerRef", "name"},
			"spec.accountServerRef.name: Required value: accountServerRef.name is required"),
		Entry("pricing without a mode", func(s *v1.TenantSpec) { s.Pricing = &v1.PricingSpec{Mode: v1.PricingTrial, Currency: "EUR"} },
			[]string{"spec", "pricing", "mode"},
			"spec.pricing.mode: Required value: pricing.mode is required: trial or production"),
		Entry("mfa without enabled", func(s *v1.TenantSpec) { s.MFA = &v1.MFASpec{} },
			[]string{"spec", "mfa", "enabled"},
			"spec.mfa.enabled: Required value: mfa.enabled is required: true or false"),
		Entry("a logo Secret without its name", func(s *v1.TenantSpec) {
			s.Kind = v1.TenantPartner
			s.Branding = &v1.BrandingSpec{Logo: &v1.LogoSource{SecretKeyRef: &v1.LocalSecretKeySelector{Name: "logo", Key: "logo.png"}}}
		}, []string{"spec", "branding", "logo", "secretKeyRef", "name"},
			"spec.branding.logo.secretKeyRef.name: Required value: name is required: the name of the Secret"),
	)

	It("accepts branding on partners and folders, defaulting it to enabled", func() {
		for _, kind := range []v1.TenantKind{v1.TenantPartner, v1.TenantFolder} {
			t := newTenant(func(s *v1.TenantSpec) {
				s.Kind = kind
				s.Branding = &v1.BrandingSpec{CompanyName: "Northwind", Color: "0a5FAA",
					Logo: &v1.LogoSource{ConfigMapKeyRef: &v1.LocalConfigMapKeySelector{Name: "logo", Key: "logo.png"}}}
			})
			Expect(k8s.Create(ctx, t)).To(Succeed())
			got := &v1.Tenant{}
			Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
			Expect(got.Spec.Branding.Enabled).To(Equal(ptr.To(true)))
		}
	})

	It("keeps an empty applications list apart from an absent one", func() {
		none := newTenant(func(s *v1.TenantSpec) { s.Applications = []string{} })
		unmanaged := newTenant(nil)
		Expect(k8s.Create(ctx, none)).To(Succeed())
		Expect(k8s.Create(ctx, unmanaged)).To(Succeed())
		got := &v1.Tenant{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(none), got)).To(Succeed())
		Expect(got.Spec.Applications).To(BeEmpty())
		Expect(got.Spec.Applications).NotTo(BeNil(), "[] turns every service off")
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(unmanaged), got)).To(Succeed())
		Expect(got.Spec.Applications).To(BeNil(), "absent leaves the services alone")
	})

	It("refuses to turn a branded partner into a customer", func() {
		t := newTenant(func(s *v1.TenantSpec) {
			s.Kind = v1.TenantPartner
			s.Branding = &v1.BrandingSpec{ServiceName: "Northwind Cloud"}
		})
		Expect(k8s.Create(ctx, t)).To(Succeed())
		t.Spec.Kind = v1.TenantCustomer
		err := k8s.Update(ctx, t)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("branding is available to partners and folders only"))
	})

	It("keeps importID once set", func() {
		t := newTenant(func(s *v1.TenantSpec) { s.ImportID = someUUID })
		Expect(k8s.Create(ctx, t)).To(Succeed())
		t.Spec.ImportID = "1f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
		err := k8s.Update(ctx, t)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("importID cannot be changed or removed once set"))
	})

	It("never changes status.id once set", func() {
		t := newTenant(nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		t.Status.ID = someUUID
		Expect(k8s.Status().Update(ctx, t)).To(Succeed())
		t.Status.ID = "1f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
		err := k8s.Status().Update(ctx, t)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("status.id never changes once set"))
	})
})
