package metrics_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
)

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

func ready(status metav1.ConditionStatus) []metav1.Condition {
	return []metav1.Condition{{Type: v1.ConditionReady, Status: status, Reason: "Test", LastTransitionTime: metav1.Now()}}
}

func om(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: "ns"} }

// objects are 2 Tenants Ready, 1 not Ready, 1 without conditions; 1 User not
// Ready; 1 ApiClient Ready; 1 AccountServer Ready; 1 ClusterAccountServer
// not Ready; no OfferingItemQuota and no UsageReport.
func objects() []client.Object {
	t := func(name string, c []metav1.Condition) *v1.Tenant {
		o := &v1.Tenant{ObjectMeta: om(name)}
		o.Status.Conditions = c
		return o
	}
	u := &v1.User{ObjectMeta: om("u")}
	u.Status.Conditions = ready(metav1.ConditionFalse)
	ac := &v1.ApiClient{ObjectMeta: om("ac")}
	ac.Status.Conditions = ready(metav1.ConditionTrue)
	as := &v1.AccountServer{ObjectMeta: om("as")}
	as.Status.Conditions = ready(metav1.ConditionTrue)
	cas := &v1.ClusterAccountServer{ObjectMeta: metav1.ObjectMeta{Name: "cas"}}
	cas.Status.Conditions = ready(metav1.ConditionFalse)
	return []client.Object{
		t("t1", ready(metav1.ConditionTrue)), t("t2", ready(metav1.ConditionTrue)),
		t("t3", ready(metav1.ConditionFalse)), t("t4", nil),
		u, ac, as, cas,
	}
}

// expected renders the exposition text for counts[kind] = {True, False, Unknown}.
func expected(counts map[string][3]int) string {
	var b strings.Builder
	b.WriteString("# HELP tenant_operator_objects Objects of each kind the operator manages, by the status of their Ready condition (Unknown: no Ready condition yet).\n")
	b.WriteString("# TYPE tenant_operator_objects gauge\n")
	for _, k := range []string{"AccountServer", "ClusterAccountServer", "Tenant", "User", "OfferingItemQuota", "UsageReport", "ApiClient", "Location", "Storage", "RegistrationToken"} {
		c := counts[k]
		for i, r := range []string{"True", "False", "Unknown"} {
			fmt.Fprintf(&b, "tenant_operator_objects{kind=%q,ready=%q} %d\n", k, r, c[i])
		}
	}
	return b.String()
}

var want = map[string][3]int{
	"AccountServer":        {1, 0, 0},
	"ClusterAccountServer": {0, 1, 0},
	"Tenant":               {2, 1, 1},
	"User":                 {0, 1, 0},
	"ApiClient":            {1, 0, 0},
}

func TestObjectsCollectorCounts(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(objects()...).Build()
	col := metrics.NewObjectsCollector(c, logr.Discard())
	if err := testutil.CollectAndCompare(col, strings.NewReader(expected(want)), metrics.ObjectsMetricName); err != nil {
		t.Fatal(err)
	}
}

// TestObjectsCollectorCanFail proves the comparison above is not vacuous:
// one count off by one is reported.
func TestObjectsCollectorCanFail(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(objects()...).Build()
	col := metrics.NewObjectsCollector(c, logr.Discard())
	wrong := map[string][3]int{}
	for k, v := range want {
		wrong[k] = v
	}
	wrong["Tenant"] = [3]int{3, 1, 0}
	if err := testutil.CollectAndCompare(col, strings.NewReader(expected(wrong)), metrics.ObjectsMetricName); err == nil {
		t.Fatal("a wrong count compared equal")
	}
}

// TestRegisterOnce: Register twice (a restarted manager) registers the
// collector once with controller-runtime's registry and counts through the
// newest reader.
func TestRegisterOnce(t *testing.T) {
	empty := fake.NewClientBuilder().WithScheme(scheme()).Build()
	if err := metrics.Register(empty, logr.Discard()); err != nil {
		t.Fatal(err)
	}
	full := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(objects()...).Build()
	if err := metrics.Register(full, logr.Discard()); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(crmetrics.Registry, strings.NewReader(expected(want)), metrics.ObjectsMetricName); err != nil {
		t.Fatal(err)
	}
}
