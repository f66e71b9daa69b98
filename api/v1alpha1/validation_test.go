package v1alpha1_test

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

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

// schemaWording is how the API server words errors of the OpenAPI schema
// (pattern, minLength, minimum, enum) and the line it adds when such an
// error stops the CEL rules. None of it may reach a user: each field's
// rules say what is wrong in a sentence that names the field.
var schemaWording = []string{
	"<nil>",
	"some validation rules were not checked",
	"should match",
	"in body",
	"Unsupported value",
}

// expectRefused creates obj and asserts the API server refuses it as invalid
// with one message, a plain one: a single cause, no schema wording, and
// every one of the given fragments (the field's path and the sentence that
// names the field and the rule).
func expectRefused(obj client.Object, fragments ...string) {
	GinkgoHelper()
	Expect(fragments).NotTo(BeEmpty(), "say which message the object must get")
	err := k8s.Create(ctx, obj)
	Expect(err).To(HaveOccurred(), "the API server accepted an invalid object")
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid error, got %v", err)
	msg := err.Error()
	for _, w := range schemaWording {
		Expect(msg).NotTo(ContainSubstring(w), "the message is not plain")
	}
	var status apierrors.APIStatus
	Expect(errors.As(err, &status)).To(BeTrue())
	Expect(status.Status().Details).NotTo(BeNil())
	Expect(status.Status().Details.Causes).To(HaveLen(1), "want one message, got %q", msg)
	for _, f := range fragments {
		Expect(msg).To(ContainSubstring(f))
	}
}

// without is obj as a manifest without the field at path (a list's element
// by its index): a typed object always sends its required fields, so a
// missing one is left out of its JSON.
func without(obj client.Object, path ...string) client.Object {
	GinkgoHelper()
	gvk, err := apiutil.GVKForObject(obj, k8s.Scheme())
	Expect(err).NotTo(HaveOccurred())
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	Expect(err).NotTo(HaveOccurred())
	var node any = content
	for i, name := range path {
		last := i == len(path)-1
		switch n := node.(type) {
		case map[string]any:
			Expect(n).To(HaveKey(name), "the manifest has no %v to leave out", path)
			if last {
				delete(n, name)
			}
			node = n[name]
		case []any:
			idx, err := strconv.Atoi(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(last).To(BeFalse(), "leave out a field of a list's element, not the element")
			Expect(idx).To(BeNumerically("<", len(n)))
			node = n[idx]
		default:
			Fail(fmt.Sprintf("%v: %s is not an object or a list", path, name))
		}
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u
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
			"spec.url", "url must be an absolute http or https URL"),
		Entry("a URL with another scheme", func(s *v1.AccountServerSpec) { s.URL = "ftp://eu2-cloud.example.com" },
			"spec.url", "url must be an absolute http or https URL"),
		Entry("a URL that already has the API path", func(s *v1.AccountServerSpec) { s.URL = "https://eu2-cloud.example.com/api/2" },
			"spec.url", "url is the datacenter's base URL: leave out /api/2"),
		Entry("an empty URL", func(s *v1.AccountServerSpec) { s.URL = "" },
			"spec.url", "url must be an absolute http or https URL"),
		Entry("no credentials Secret name", func(s *v1.AccountServerSpec) { s.CredentialsSecretRef = v1.SecretReference{} },
			"spec.credentialsSecretRef.name", "the Secret's name must not be empty"),
		Entry("a Secret in another namespace", func(s *v1.AccountServerSpec) { s.CredentialsSecretRef.Namespace = "other" },
			"spec.credentialsSecretRef.namespace", "an AccountServer reads its Secret from its own namespace"),
		Entry("a negative request rate", func(s *v1.AccountServerSpec) { s.RateLimit.RequestsPerSecond = -1 },
			"spec.rateLimit.requestsPerSecond", "rateLimit.requestsPerSecond must be between 1 and 10000"),
		Entry("a request rate above the bound", func(s *v1.AccountServerSpec) { s.RateLimit.RequestsPerSecond = 10001 },
			"spec.rateLimit.requestsPerSecond", "rateLimit.requestsPerSecond must be between 1 and 10000"),
		Entry("a negative burst", func(s *v1.AccountServerSpec) { s.RateLimit.Burst = -5 },
			"spec.rateLimit.burst", "rateLimit.burst must be between 1 and 10000"),
		Entry("a CA bundle and no verification at once", func(s *v1.AccountServerSpec) {
			s.TLS = &v1.TLSConfig{InsecureSkipVerify: true, CASecretRef: &v1.SecretKeySelector{SecretReference: v1.SecretReference{Name: "ca"}, Key: "ca.crt"}}
		}, "caSecretRef and insecureSkipVerify are mutually exclusive"),
		Entry("a CA key that is empty", func(s *v1.AccountServerSpec) {
			s.TLS = &v1.TLSConfig{CASecretRef: &v1.SecretKeySelector{SecretReference: v1.SecretReference{Name: "ca"}}}
		}, "spec.tls.caSecretRef.key", "the Secret's key must not be empty"),
		Entry("a resync interval too short to be kind to the server", func(s *v1.AccountServerSpec) {
			s.ResyncInterval = &metav1.Duration{Duration: time.Second}
		}, "spec.resyncInterval", "resyncInterval must be at least 10s"),
	)

	DescribeTable("refuses a manifest without a required field, or with a value no Go client sends, with a clear message",
		func(mutate func(map[string]any), fragments ...string) {
			u := map[string]any{
				"apiVersion": v1.GroupVersion.String(), "kind": "AccountServer",
				"metadata": map[string]any{"name": uniqueName("as"), "namespace": "default"},
				"spec":     map[string]any{"url": "https://eu2-cloud.example.com", "credentialsSecretRef": map[string]any{"name": "creds"}},
			}
			mutate(u)
			expectRefused(unstructuredObject(u), fragments...)
		},
		Entry("no spec", func(u map[string]any) { delete(u, "spec") },
			"spec: Required value: spec is required"),
		Entry("no URL", func(u map[string]any) { delete(u["spec"].(map[string]any), "url") },
			"spec.url", "Required value", "url is required"),
		Entry("no credentials", func(u map[string]any) { delete(u["spec"].(map[string]any), "credentialsSecretRef") },
			"spec.credentialsSecretRef", "Required value", "credentialsSecretRef is required"),
		Entry("credentials without the Secret's name", func(u map[string]any) {
			u["spec"].(map[string]any)["credentialsSecretRef"] = map[string]any{}
		}, "spec.credentialsSecretRef.name", "Required value", "name is required: the name of the Secret"),
		Entry("a drift interval that is no duration", func(u map[string]any) { u["spec"].(map[string]any)["driftInterval"] = "5 minutes" },
			"spec.driftInterval", "driftInterval must be a duration such as 30s"),
	)
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
			"spec.url", "url must be an absolute http or https URL"),
		Entry("a negative burst", func(s *v1.ClusterAccountServerSpec) { s.RateLimit.Burst = -1 },
			"spec.rateLimit.burst", "rateLimit.burst must be between 1 and 10000"),
		Entry("an unknown cross-namespace setting", func(s *v1.ClusterAccountServerSpec) { s.CrossNamespaceReferences = "Sometimes" },
			"spec.crossNamespaceReferences", "crossNamespaceReferences must be Deny or Allow"),
	)
})

func unstructuredObject(content map[string]any) client.Object {
	u := &unstructured.Unstructured{Object: content}
	return u
}
