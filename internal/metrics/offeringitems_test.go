package metrics_test

import (
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
)

const (
	cpID      = "6e6d758d-8e74-3ae3-ac84-50eb0dff12eb"
	otherID   = "0c1d2e3f-0000-4000-8000-000000000001"
	acmeID    = "11111111-2222-4333-8444-555555555555"
	globexID  = "99999999-2222-4333-8444-555555555555"
	storageID = "4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01"
)

// quotaObjects are: acme's items by tenantRef, naming Cyber Protection by
// name (workstations with both quotas and usage; servers with a soft quota
// and no usage read yet; storage on a storage, unlimited; mobiles turned
// off); globex's by tenantID, naming the application by UUID; and an object
// whose status has no items yet.
func quotaObjects() []client.Object {
	acme := &v1.OfferingItemQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-quotas", Namespace: "team-a"},
		Spec: v1.OfferingItemQuotaSpec{TenantRef: &v1.LocalReference{Name: "acme"}, Items: []v1.OfferingItemSpec{
			{Application: "Cyber Protection", Name: "workstations"},
			{Application: "Cyber Protection", Name: "servers"},
			{Application: "Cyber Protection", Name: "storage", InfraID: storageID},
			{Application: "Cyber Protection", Name: "mobiles", Enabled: ptr.To(false)},
		}},
	}
	acme.Status.TenantID = acmeID
	acme.Status.Items = []v1.OfferingItemStatus{
		{Application: cpID, Name: "workstations", Enabled: true, Value: ptr.To[int64](50), Overage: ptr.To[int64](55), Usage: ptr.To[int64](12)},
		{Application: cpID, Name: "servers", Enabled: true, Value: ptr.To[int64](5)},
		{Application: cpID, Name: "storage", Enabled: true, InfraID: storageID, Usage: ptr.To[int64](1 << 40)},
		{Application: cpID, Name: "mobiles", Enabled: false, Value: ptr.To[int64](0), Usage: ptr.To[int64](0)},
	}
	globex := &v1.OfferingItemQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "globex", Namespace: "team-b"},
		Spec: v1.OfferingItemQuotaSpec{TenantID: globexID, Items: []v1.OfferingItemSpec{
			{Application: cpID, Name: "workstations"},
		}},
	}
	globex.Status.TenantID = globexID
	globex.Status.Items = []v1.OfferingItemStatus{
		{Application: cpID, Name: "workstations", Enabled: true, Value: ptr.To[int64](3), Usage: ptr.To[int64](4)},
	}
	fresh := &v1.OfferingItemQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "fresh", Namespace: "team-b"},
		Spec:       v1.OfferingItemQuotaSpec{TenantRef: &v1.LocalReference{Name: "initech"}, Items: []v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "servers"}}},
	}
	return []client.Object{acme, globex, fresh}
}

const wantOfferingItems = `
# HELP tenant_operator_offering_item_overage Hard quota (overage) of each offering item an OfferingItemQuota manages, as the account server has it; items without one (unlimited) are left out.
# TYPE tenant_operator_offering_item_overage gauge
tenant_operator_offering_item_overage{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="Cyber Protection",infra="",item="workstations",namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 55
# HELP tenant_operator_offering_item_quota Soft quota (value) of each offering item an OfferingItemQuota manages, as the account server has it; items without one (unlimited) are left out.
# TYPE tenant_operator_offering_item_quota gauge
tenant_operator_offering_item_quota{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="Cyber Protection",infra="",item="servers",namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 5
tenant_operator_offering_item_quota{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="Cyber Protection",infra="",item="workstations",namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 50
tenant_operator_offering_item_quota{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="",infra="",item="workstations",namespace="team-b",tenant="99999999-2222-4333-8444-555555555555",tenant_id="99999999-2222-4333-8444-555555555555"} 3
# HELP tenant_operator_offering_item_usage Usage of each offering item an OfferingItemQuota manages, as its status last read it from the account server (items whose usage was never read are left out).
# TYPE tenant_operator_offering_item_usage gauge
tenant_operator_offering_item_usage{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="Cyber Protection",infra="",item="workstations",namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 12
tenant_operator_offering_item_usage{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="Cyber Protection",infra="4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01",item="storage",namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 1.099511627776e+12
tenant_operator_offering_item_usage{application="6e6d758d-8e74-3ae3-ac84-50eb0dff12eb",application_name="",infra="",item="workstations",namespace="team-b",tenant="99999999-2222-4333-8444-555555555555",tenant_id="99999999-2222-4333-8444-555555555555"} 4
`

var offeringItemNames = []string{metrics.OfferingItemUsageMetricName, metrics.OfferingItemQuotaMetricName, metrics.OfferingItemOverageMetricName}

// TestOfferingItemsCollector: every enabled item with a reading or a quota
// is reported under its tenant (the Tenant object's name, or the UUID),
// unlimited items have no quota series, items never read have no usage
// series, and turned-off items none at all.
func TestOfferingItemsCollector(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(quotaObjects()...).Build()
	col := metrics.NewOfferingItemsCollector(c, logr.Discard())
	if err := testutil.CollectAndCompare(col, strings.NewReader(wantOfferingItems), offeringItemNames...); err != nil {
		t.Fatal(err)
	}
}

// TestOfferingItemsCollectorCanFail: a wrong value is told apart.
func TestOfferingItemsCollectorCanFail(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(quotaObjects()...).Build()
	col := metrics.NewOfferingItemsCollector(c, logr.Discard())
	wrong := strings.Replace(wantOfferingItems, `namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 12`, `namespace="team-a",tenant="acme",tenant_id="11111111-2222-4333-8444-555555555555"} 13`, 1)
	if wrong == wantOfferingItems {
		t.Fatal("the replacement did not apply")
	}
	if err := testutil.CollectAndCompare(col, strings.NewReader(wrong), offeringItemNames...); err == nil {
		t.Fatal("a wrong usage compared equal")
	}
}

// TestOfferingItemsDuplicate: two objects in one namespace holding the same
// item of a tenant (one of them refused, still listing it) give one series,
// not a failed scrape.
func TestOfferingItemsDuplicate(t *testing.T) {
	objs := quotaObjects()
	dup := objs[0].(*v1.OfferingItemQuota).DeepCopy()
	dup.Name = "acme-quotas-copy"
	c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(append(objs, dup)...).Build()
	col := metrics.NewOfferingItemsCollector(c, logr.Discard())
	if n := testutil.CollectAndCount(col, offeringItemNames...); n != 7 {
		t.Fatalf("%d series, want 7", n)
	}
}

// TestApplicationName: the readable name comes from the spec only when it
// is unambiguous.
func TestApplicationName(t *testing.T) {
	for name, tc := range map[string]struct {
		spec []v1.OfferingItemSpec
		want string
	}{
		"by name":         {[]v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations"}}, "Cyber Protection"},
		"by UUID":         {[]v1.OfferingItemSpec{{Application: cpID, Name: "workstations"}}, ""},
		"another by UUID": {[]v1.OfferingItemSpec{{Application: otherID, Name: "workstations"}}, ""},
		"two names":       {[]v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations"}, {Application: "Other", Name: "workstations"}}, ""},
		"same name twice": {[]v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations"}, {Application: "cyber protection", Name: "workstations"}}, "Cyber Protection"},
		"UUID and a name": {[]v1.OfferingItemSpec{{Application: cpID, Name: "workstations"}, {Application: "Other", Name: "workstations"}}, ""},
		"other item only": {[]v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "servers"}}, ""},
		"other storage":   {[]v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations", InfraID: storageID}}, ""},
		"infraRef":        {[]v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations", InfraRef: &v1.LocalReference{Name: "s"}}}, "Cyber Protection"},
	} {
		t.Run(name, func(t *testing.T) {
			q := &v1.OfferingItemQuota{
				ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "ns"},
				Spec:       v1.OfferingItemQuotaSpec{TenantID: acmeID, Items: tc.spec},
			}
			q.Status.TenantID = acmeID
			q.Status.Items = []v1.OfferingItemStatus{{Application: cpID, Name: "workstations", Enabled: true, Value: ptr.To[int64](1)}}
			c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(q).Build()
			col := metrics.NewOfferingItemsCollector(c, logr.Discard())
			want := `
# HELP tenant_operator_offering_item_quota Soft quota (value) of each offering item an OfferingItemQuota manages, as the account server has it; items without one (unlimited) are left out.
# TYPE tenant_operator_offering_item_quota gauge
tenant_operator_offering_item_quota{application="` + cpID + `",application_name="` + tc.want + `",infra="",item="workstations",namespace="ns",tenant="` + acmeID + `",tenant_id="` + acmeID + `"} 1
`
			if err := testutil.CollectAndCompare(col, strings.NewReader(want), metrics.OfferingItemQuotaMetricName); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRegisterOfferingItems: Register (what the operator calls) also
// serves the offering item gauges from controller-runtime's registry.
func TestRegisterOfferingItems(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme()).WithObjects(quotaObjects()...).Build()
	if err := metrics.Register(c, logr.Discard()); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(crmetrics.Registry, strings.NewReader(wantOfferingItems), offeringItemNames...); err != nil {
		t.Fatal(err)
	}
}
