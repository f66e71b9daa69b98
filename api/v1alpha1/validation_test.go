package v1alpha1_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var nameSeq int

func uniqueName(prefix string) string {
	nameSeq++
	return fmt.Sprintf("%s-%d", prefix, nameSeq)
}

func goodAccountServerSpec() v1.AccountServerSpec {
	return v1.AccountServerSpec{
		URL:                  "https://eu2-cloud.example.com",
		CredentialsSecretRef: v1.SecretReference{Name: "creds"},
	}
}

// expectRefused creates obj and asserts the API server refuses it as invalid
// with every one of the given message fragments.
func expectRefused(obj client.Object, fragments ...string) {
	err := k8s.Create(ctx, obj)
	Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid error, got %v", err)
	for _, f := range fragments {
		Expect(err.Error()).To(ContainSubstring(f))
	}
}

var _ = Describe("AccountServer", func() {
	newAS := func(mutate func(*v1.AccountServerSpec)) *v1.AccountServer {
		spec := goodAccountServerSpec()
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.AccountServer{
			ObjectMeta: metav1.ObjectMeta{Name: uniqueName("as"), Namespace: "default"},
			Spec:       spec,
		}
	}

	It("accepts a good object and fills in the defaults", func() {
		as := newAS(nil)
		Expect(k8s.Create(ctx, as)).To(Succeed())

		got := &v1.AccountServer{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(as), got)).To(Succeed())
		Expect(got.Spec.RateLimit).To(Equal(v1.RateLimit{RequestsPerSecond: 10, Burst: 20}))
		Expect(got.Spec.ResyncInterval).To(BeNil(), "left out, the manager's --default-resync-interval applies")
	})

	It("accepts an http URL with a port and a CA bundle", func() {
		as := newAS(func(s *v1.AccountServerSpec) {
			s.URL = "http://127.0.0.1:8443"
			s.TLS = &v1.TLSConfig{CASecretRef: &v1.SecretKeySelector{SecretReference: v1.SecretReference{Name: "ca"}, Key: "ca.crt"}}
		})
		Expect(k8s.Create(ctx, as)).To(Succeed())
	})

	DescribeTable("refuses a bad object with a clear message",
		func(mutate func(*v1.AccountServerSpec), fragments ...string) {
			expectRefused(newAS(mutate), fragments...)
		},
		Entry("a URL without a scheme", func(s *v1.AccountServerSpec) { s.URL = "eu2-cloud.example.com" },
			"url must be an absolute http or https URL"),
		Entry("a URL with another scheme", func(s *v1.AccountServerSpec) { s.URL = "ftp://eu2-cloud.example.com" },
			"url must be an absolute http or https URL"),
		Entry("a URL that already has the API path", func(s *v1.AccountServerSpec) { s.URL = "https://eu2-cloud.example.com/api/2" },
			"leave out /api/2"),
		Entry("an empty URL", func(s *v1.AccountServerSpec) { s.URL = "" },
			"spec.url"),
		Entry("no credentials Secret name", func(s *v1.AccountServerSpec) { s.CredentialsSecretRef = v1.SecretReference{} },
			"spec.credentialsSecretRef.name"),
		Entry("a Secret in another namespace", func(s *v1.AccountServerSpec) { s.CredentialsSecretRef.Namespace = "other" },
			"an AccountServer reads its Secret from its own namespace"),
		Entry("a negative request rate", func(s *v1.AccountServerSpec) { s.RateLimit.RequestsPerSecond = -1 },
			"spec.rateLimit.requestsPerSecond", "greater than or equal to 1"),
		Entry("a negative burst", func(s *v1.AccountServerSpec) { s.RateLimit.Burst = -5 },
			"spec.rateLimit.burst", "greater than or equal to 1"),
		Entry("a CA bundle and no verification at once", func(s *v1.AccountServerSpec) {
			s.TLS = &v1.TLSConfig{InsecureSkipVerify: true, CASecretRef: &v1.SecretKeySelector{SecretReference: v1.SecretReference{Name: "ca"}, Key: "ca.crt"}}
		}, "caSecretRef and insecureSkipVerify are mutually exclusive"),
		Entry("a resync interval too short to be kind to the server", func(s *v1.AccountServerSpec) {
			s.ResyncInterval = &metav1.Duration{Duration: time.Second}
		}, "resyncInterval must be at least 10s"),
	)

	It("refuses a spec without credentials at all", func() {
		u := map[string]any{
			"apiVersion": v1.GroupVersion.String(), "kind": "AccountServer",
			"metadata": map[string]any{"name": uniqueName("as"), "namespace": "default"},
			"spec":     map[string]any{"url": "https://eu2-cloud.example.com"},
		}
		expectRefused(unstructuredObject(u), "spec.credentialsSecretRef", "Required value")
	})
})

var _ = Describe("ClusterAccountServer", func() {
	newCAS := func(mutate func(*v1.ClusterAccountServerSpec)) *v1.ClusterAccountServer {
		spec := v1.ClusterAccountServerSpec{AccountServerSpec: goodAccountServerSpec()}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.ClusterAccountServer{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("cas")}, Spec: spec}
	}

	It("accepts a Secret in another namespace and a namespace selector", func() {
		cas := newCAS(func(s *v1.ClusterAccountServerSpec) {
			s.CredentialsSecretRef.Namespace = "tenant-operator-system"
			s.AllowedNamespaces = &metav1.LabelSelector{MatchLabels: map[string]string{"tenants": "allowed"}}
		})
		Expect(k8s.Create(ctx, cas)).To(Succeed())

		got := &v1.ClusterAccountServer{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cas), got)).To(Succeed())
		Expect(got.Spec.AllowedNamespaces.MatchLabels).To(HaveKeyWithValue("tenants", "allowed"))
		Expect(got.Spec.RateLimit).To(Equal(v1.RateLimit{RequestsPerSecond: 10, Burst: 20}))
	})

	DescribeTable("refuses a bad object with a clear message",
		func(mutate func(*v1.ClusterAccountServerSpec), fragments ...string) {
			expectRefused(newCAS(mutate), fragments...)
		},
		Entry("a URL without a scheme", func(s *v1.ClusterAccountServerSpec) { s.URL = "eu2-cloud.example.com" },
			"url must be an absolute http or https URL"),
		Entry("a negative burst", func(s *v1.ClusterAccountServerSpec) { s.RateLimit.Burst = -1 },
			"spec.rateLimit.burst"),
	)
})

func unstructuredObject(content map[string]any) client.Object {
	u := &unstructured.Unstructured{Object: content}
	return u
}
