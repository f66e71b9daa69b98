package tenant_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// tinyPNG is a valid 1×1 PNG of one color.
func tinyPNG(c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, c)
	var buf bytes.Buffer
	ExpectWithOffset(1, png.Encode(&buf, img)).To(Succeed())
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// calls are what clientID sent with that method to paths ending in suffix.
func calls(clientID, method, suffix string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range requestsBy(clientID) {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func remoteBrand(id string) emulator.Brand {
	b, ok := emu.Brand(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "tenant %s has no brand on the server", id)
	return b
}

var _ = Describe("Tenant services and branding", func() {
	var conn, clientID string
	BeforeEach(func() { conn, clientID = connection(nil) })

	It("binds exactly the applications listed, by name or by ID, and stalls on an unknown one", func() {
		partner := tenantOn(conn, uniq("svc-partner"), v1.TenantPartner, nil)
		customer := tenantOn(conn, uniq("svc-customer"), v1.TenantCustomer, func(t *v1.Tenant) {
			t.Spec.ParentRef = &v1.LocalReference{Name: partner.Name}
			t.Spec.Applications = []string{"Cyber Protection", emulator.FileSyncShareAppID}
		})
		Expect(k8s.Create(ctx, partner)).To(Succeed())
		Expect(k8s.Create(ctx, customer)).To(Succeed())
		pid := expectReady(partner).Status.ID
		c := expectReady(customer)
		id := c.Status.ID

		Expect(emu.Bindings(id)).To(ConsistOf(emulator.CyberProtectionAppID, emulator.FileSyncShareAppID),
			"the service inherited from the parent and not listed is turned off")
		Expect(c.Status.Applications).To(ConsistOf("Cyber Protection", "File Sync & Share"))
		Expect(emu.Bindings(pid)).To(ContainElement(emulator.DisasterRecoveryAppID), "the parent keeps its services")
		Expect(calls(clientID, "GET", "/tenants/"+pid+"/applications")).To(BeEmpty(), "bindings are not read when not managed")
		Expect(calls(clientID, "GET", "/tenants/"+pid+"/brand")).To(BeEmpty(), "the brand is not read when not managed")

		By("turning off the one that leaves the list")
		modify(c, func(t *v1.Tenant) { t.Spec.Applications = []string{emulator.CyberProtectionAppID} })
		c = expectReady(c)
		Expect(emu.Bindings(id)).To(Equal([]string{emulator.CyberProtectionAppID}))
		Expect(c.Status.Applications).To(Equal([]string{"Cyber Protection"}))
		Expect(calls(clientID, "DELETE", "/applications/"+emulator.FileSyncShareAppID+"/bindings/tenants/"+id)).To(HaveLen(1))

		By("stalling on a name the server does not know, without writing")
		writes := len(writesBy(clientID))
		modify(c, func(t *v1.Tenant) { t.Spec.Applications = []string{"Cyber Protection", "Quantum Backup"} })
		Expect(expectStalled(c, tenant.ReasonUnknownApplication).Message).To(And(
			HavePrefix("spec.applications: no application is named or has the ID Quantum Backup on the server; it knows "),
			ContainSubstring("Cyber Protection")), "the field, the unknown name and the known ones, as OfferingItemQuota says it")
		Expect(writesBy(clientID)).To(HaveLen(writes))
		Expect(emu.Bindings(id)).To(Equal([]string{emulator.CyberProtectionAppID}))

		By("turning every service off with an empty list")
		modify(c, func(t *v1.Tenant) { t.Spec.Applications = []string{} })
		c = expectReady(c)
		Expect(emu.Bindings(id)).To(BeEmpty())
		Expect(c.Status.Applications).To(BeEmpty())

		Expect(calls(clientID, "GET", "/api/2/applications")).To(HaveLen(1), "the catalog is read once per connection, not per reconcile")
	})

	It("brands a partner: enables it, sets the options, uploads the logo when it changes, and disables it", func() {
		logo1, logo2 := tinyPNG(color.RGBA{R: 10, G: 95, B: 170, A: 255}), tinyPNG(color.RGBA{R: 200, A: 255})
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: uniq("logo"), Namespace: "default"},
			BinaryData: map[string][]byte{"logo.png": logo1},
		}
		Expect(k8s.Create(ctx, cm)).To(Succeed())
		p := tenantOn(conn, uniq("branded"), v1.TenantPartner, func(t *v1.Tenant) {
			t.Spec.Branding = &v1.BrandingSpec{
				CompanyName: "Northwind", ServiceName: "Northwind Cloud", Color: "0A5FAA",
				SupportURL: "https://support.northwind.example", SupportPhone: "+41 31 000 00 00",
				BuyURL: "https://northwind.example/buy",
				Logo:   &v1.LogoSource{ConfigMapKeyRef: &v1.LocalConfigMapKeySelector{Name: cm.Name, Key: "logo.png"}},
			}
		})
		Expect(k8s.Create(ctx, p)).To(Succeed())
		p = expectReady(p)
		id := p.Status.ID
		uploads := func() int { return len(calls(clientID, "POST", "/tenants/"+id+"/brand/logo")) }

		b := remoteBrand(id)
		Expect(b.Enabled).To(BeTrue())
		Expect(b.Options).To(And(
			HaveKeyWithValue("company_name", "Northwind"), HaveKeyWithValue("service_name", "Northwind Cloud"),
			HaveKeyWithValue("color", "0A5FAA"), HaveKeyWithValue("support_url", "https://support.northwind.example"),
			HaveKeyWithValue("support_phone", "+41 31 000 00 00"), HaveKeyWithValue("upsell_url", "https://northwind.example/buy"),
		))
		Expect(b.Logo).To(Equal(logo1))
		Expect(uploads()).To(Equal(1))
		Expect(p.Status.BrandingEnabled).To(Equal(ptr.To(true)))
		Expect(p.Status.BrandingLogoSHA256).To(Equal(sha(logo1)))
		Expect(p.Status.Version).To(Equal(remoteTenant(id).Version), "status holds the version the brand writes left")

		By("updating one option, without uploading the logo again")
		modify(p, func(t *v1.Tenant) { t.Spec.Branding.ServiceName = "Northwind Backup" })
		p = expectReady(p)
		Expect(remoteBrand(id).Options).To(And(HaveKeyWithValue("service_name", "Northwind Backup"), HaveKeyWithValue("company_name", "Northwind")))
		Expect(uploads()).To(Equal(1))

		By("not uploading when the ConfigMap changes but the logo does not")
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cm), cm)).To(Succeed())
		cm.Labels = map[string]string{"touched": "yes"}
		Expect(k8s.Update(ctx, cm)).To(Succeed())
		Eventually(func(g Gomega) string { return get(p)(g).Status.BrandingLogoSource }).WithTimeout(time.Minute).
			Should(HaveSuffix("@" + cm.ResourceVersion))
		Expect(uploads()).To(Equal(1))

		By("uploading a changed logo")
		cm.BinaryData["logo.png"] = logo2
		Expect(k8s.Update(ctx, cm)).To(Succeed())
		Eventually(func() []byte { return remoteBrand(id).Logo }).WithTimeout(time.Minute).Should(Equal(logo2))
		Eventually(func(g Gomega) string { return get(p)(g).Status.BrandingLogoSHA256 }).WithTimeout(time.Minute).Should(Equal(sha(logo2)))
		Expect(uploads()).To(Equal(2))
		Expect(expectReady(p).Status.Version).To(Equal(remoteTenant(id).Version))

		By("disabling it")
		modify(p, func(t *v1.Tenant) { t.Spec.Branding.Enabled = ptr.To(false) })
		p = expectReady(p)
		Expect(remoteBrand(id).Enabled).To(BeFalse())
		Expect(remoteTenant(id).BrandEnabled).To(BeFalse())
		Expect(p.Status.BrandingEnabled).To(Equal(ptr.To(false)))
		Expect(p.Status.Version).To(Equal(remoteTenant(id).Version))
	})

	It("waits for a logo Secret on a folder, then uploads it", func() {
		logo := tinyPNG(color.RGBA{G: 128, A: 255})
		secretName := uniq("logo-secret")
		f := tenantOn(conn, uniq("branded-folder"), v1.TenantFolder, func(t *v1.Tenant) {
			t.Spec.Branding = &v1.BrandingSpec{
				CompanyName: "Folder Co",
				Logo:        &v1.LogoSource{SecretKeyRef: &v1.LocalSecretKeySelector{Name: secretName, Key: "logo"}},
			}
		})
		Expect(k8s.Create(ctx, f)).To(Succeed())
		Expect(expectStalled(f, tenant.ReasonLogoNotFound).Message).To(ContainSubstring(secretName))

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: "default"}, Data: map[string][]byte{"logo": []byte("GIF89a")}}
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		expectStalled(f, tenant.ReasonInvalidLogo)

		secret.Data["logo"] = logo
		Expect(k8s.Update(ctx, secret)).To(Succeed())
		f = expectReady(f)
		b := remoteBrand(f.Status.ID)
		Expect(b.Enabled).To(BeTrue())
		Expect(b.Options).To(HaveKeyWithValue("company_name", "Folder Co"))
		Expect(b.Logo).To(Equal(logo))
		Expect(f.Status.BrandingLogoSHA256).To(Equal(sha(logo)))
	})

	It("puts back bindings and branding changed on the server", func() {
		conn, clientID := connection(func(c *v1.ClusterAccountServer) { c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second} })
		p := tenantOn(conn, uniq("drift-brand"), v1.TenantPartner, func(t *v1.Tenant) {
			t.Spec.Applications = []string{"Cyber Protection"}
			t.Spec.Branding = &v1.BrandingSpec{CompanyName: "Steady"}
		})
		Expect(k8s.Create(ctx, p)).To(Succeed())
		id := expectReady(p).Status.ID

		Expect(suite.Admin.EnableApplication(ctx, emulator.DisasterRecoveryAppID, id)).To(Succeed())
		Expect(suite.Admin.DisableBrand(ctx, id, remoteTenant(id).Version)).To(Succeed())

		Eventually(func() []string { return emu.Bindings(id) }).WithTimeout(25 * time.Second).Should(Equal([]string{emulator.CyberProtectionAppID}))
		Eventually(func() bool { return remoteTenant(id).BrandEnabled }).WithTimeout(25 * time.Second).Should(BeTrue())
		Expect(remoteBrand(id).Options).To(HaveKeyWithValue("company_name", "Steady"))

		By("and an option changed there")
		_, err := suite.Admin.UpdateBrand(ctx, id, remoteTenant(id).Version, accountserver.Brand{CompanyName: "Hijacked"})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() any { return remoteBrand(id).Options["company_name"] }).WithTimeout(25 * time.Second).Should(Equal("Steady"))

		By("then writing nothing, and not listing the catalog again, on resync")
		writes, brandReads := len(writesBy(clientID)), len(calls(clientID, "GET", "/tenants/"+id+"/brand"))
		// Two more reads of the brand: one whole resync has run since.
		Eventually(func() []emulator.RequestRecord { return calls(clientID, "GET", "/tenants/"+id+"/brand") }).
			WithTimeout(30 * time.Second).Should(HaveLen(brandReads + 2))
		Expect(writesBy(clientID)).To(HaveLen(writes))
		Expect(calls(clientID, "GET", "/api/2/applications")).To(HaveLen(1))
	})
})
