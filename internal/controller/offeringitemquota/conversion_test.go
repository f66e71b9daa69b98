package offeringitemquota

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

const (
	testApp    = "app-1"
	testInfraA = "11111111-1111-1111-1111-111111111111"
	testInfraB = "22222222-2222-2222-2222-222222222222"
)

// allowDesired lets cmp look into desired and key.
var allowDesired = cmp.AllowUnexported(desired{}, key{})

// serverItem is an offering item as the server lists it; infra "" is an item
// without infra_id.
func serverItem(app, name, infra string, status int, q *accountserver.Quota) accountserver.OfferingItem {
	it := accountserver.OfferingItem{ApplicationID: app, Name: name, Status: status, Quota: q, TenantID: "t-1", Type: "count"}
	if infra != "" {
		it.InfraID, it.Type = ptr.To(infra), "infra"
	}
	return it
}

func quota(value, overage *int64, version int64) *accountserver.Quota {
	return &accountserver.Quota{Value: value, Overage: overage, Version: version}
}

func TestKeyOf(t *testing.T) {
	cases := map[string]struct {
		reason string
		item   accountserver.OfferingItem
		want   key
	}{
		"NoInfra": {"an item without infra_id has an empty storage",
			serverItem(testApp, "workstations", "", 1, nil), key{app: testApp, name: "workstations"}},
		"EmptyInfra": {"an empty infra_id is no storage",
			accountserver.OfferingItem{ApplicationID: testApp, Name: "servers", InfraID: ptr.To("")}, key{app: testApp, name: "servers"}},
		"Infra": {"an infra item is keyed by its storage too",
			serverItem(testApp, "storage", testInfraA, 1, nil), key{app: testApp, name: "storage", infra: testInfraA}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, keyOf(tc.item), allowDesired); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestToDesired(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   v1.OfferingItemSpec
		want   desired
	}{
		"Defaults": {"enabled by default, unlimited without a quota; the application is the resolved ID, not the spec's name",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "workstations"},
			desired{key: key{app: testApp, name: "workstations"}, enabled: true}},
		"Enabled": {"enabled: true",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "workstations", Enabled: ptr.To(true)},
			desired{key: key{app: testApp, name: "workstations"}, enabled: true}},
		"Disabled": {"enabled: false",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "workstations", Enabled: ptr.To(false)},
			desired{key: key{app: testApp, name: "workstations"}}},
		"EmptyQuota": {"a quota with neither limit is unlimited",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "servers", Quota: &v1.QuotaSpec{}},
			desired{key: key{app: testApp, name: "servers"}, enabled: true}},
		"Value": {"a soft quota only",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "servers", Quota: &v1.QuotaSpec{Value: ptr.To[int64](10)}},
			desired{key: key{app: testApp, name: "servers"}, enabled: true, value: ptr.To[int64](10)}},
		"Overage": {"a hard quota only",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "servers", Quota: &v1.QuotaSpec{Overage: ptr.To[int64](12)}},
			desired{key: key{app: testApp, name: "servers"}, enabled: true, overage: ptr.To[int64](12)}},
		"Infra": {"an infra item with both limits; zero is a limit, not unlimited",
			v1.OfferingItemSpec{Application: "Cyber Protection", Name: "storage", InfraID: testInfraA,
				Quota: &v1.QuotaSpec{Value: ptr.To[int64](0), Overage: ptr.To[int64](1 << 40)}},
			desired{key: key{app: testApp, name: "storage", infra: testInfraA}, enabled: true, value: ptr.To[int64](0), overage: ptr.To[int64](1 << 40)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, toDesired(testApp, tc.spec), allowDesired); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestFind(t *testing.T) {
	want := func(name, infra string) desired {
		return desired{key: key{app: testApp, name: name, infra: infra}, enabled: true}
	}
	ws := serverItem(testApp, "workstations", "", 1, quota(ptr.To[int64](5), nil, 1))
	wsOtherApp := serverItem("app-2", "workstations", "", 1, nil)
	servers := serverItem(testApp, "servers", "", 0, nil)
	emptyInfra := accountserver.OfferingItem{ApplicationID: testApp, Name: "mobiles", InfraID: ptr.To("")}
	storageA := serverItem(testApp, "storage", testInfraA, 1, quota(nil, nil, 2))
	storageB := serverItem(testApp, "storage", testInfraB, 0, nil)
	cases := map[string]struct {
		reason    string
		items     []accountserver.OfferingItem
		d         desired
		want      accountserver.OfferingItem
		wantFound bool
	}{
		"None":     {"no items", nil, want("workstations", ""), accountserver.OfferingItem{}, false},
		"ByName":   {"an item without storage, by application and name", []accountserver.OfferingItem{servers, ws}, want("workstations", ""), ws, true},
		"ByApp":    {"the same name in another application is another item", []accountserver.OfferingItem{wsOtherApp, ws}, want("workstations", ""), ws, true},
		"OtherApp": {"only another application has the item", []accountserver.OfferingItem{wsOtherApp}, want("workstations", ""), accountserver.OfferingItem{}, false},
		"Missing":  {"the tenant has no item of that name", []accountserver.OfferingItem{ws, servers}, want("vms", ""), accountserver.OfferingItem{}, false},
		"EmptyInfraID": {"an empty infra_id is no storage",
			[]accountserver.OfferingItem{emptyInfra}, want("mobiles", ""), emptyInfra, true},
		"Storage": {"an infra item on the storage the spec names",
			[]accountserver.OfferingItem{storageB, storageA}, want("storage", testInfraA), storageA, true},
		"OtherStorage": {"the item on another storage is not the one the spec names",
			[]accountserver.OfferingItem{storageB}, want("storage", testInfraA), accountserver.OfferingItem{}, false},
		"StorageNamedNoneThere": {"a storage the spec names is not matched by an item without storage",
			[]accountserver.OfferingItem{serverItem(testApp, "storage", "", 1, nil)}, want("storage", testInfraA), accountserver.OfferingItem{}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, found := find(tc.items, tc.d)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: item -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantFound, found); diff != "" {
				t.Errorf("%s: found -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	cases := map[string]struct {
		reason  string
		enabled bool
		want    int
	}{
		"On":  {"an enabled item is on", true, accountserver.ItemStatusOn},
		"Off": {"a disabled item is off", false, accountserver.ItemStatusOff},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, status(tc.enabled)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSameLimit(t *testing.T) {
	cases := map[string]struct {
		reason    string
		want, got *int64
		same      bool
	}{
		"BothUnlimited": {"nil and nil are both unlimited", nil, nil, true},
		"Equal":         {"equal values behind different pointers", ptr.To[int64](5), ptr.To[int64](5), true},
		"Zero":          {"zero and zero", ptr.To[int64](0), ptr.To[int64](0), true},
		"Different":     {"different values", ptr.To[int64](5), ptr.To[int64](6), false},
		"WantUnlimited": {"unlimited is not a limit, not even zero", nil, ptr.To[int64](0), false},
		"GotUnlimited":  {"a limit is not unlimited", ptr.To[int64](0), nil, false},
		"Large":         {"values past 2^53 are compared exactly", ptr.To[int64](1<<53 + 1), ptr.To[int64](1 << 53), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.same, sameLimit(tc.want, tc.got)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDiffers(t *testing.T) {
	const on, off = accountserver.ItemStatusOn, accountserver.ItemStatusOff
	d := func(enabled bool, value, overage *int64) desired {
		return desired{key: key{app: testApp, name: "servers"}, enabled: enabled, value: value, overage: overage}
	}
	item := func(status int, q *accountserver.Quota) accountserver.OfferingItem {
		return serverItem(testApp, "servers", "", status, q)
	}
	ten, twelve := ptr.To[int64](10), ptr.To[int64](12)
	cases := map[string]struct {
		reason string
		d      desired
		item   accountserver.OfferingItem
		want   bool
	}{
		"Same":            {"on, with the same limits", d(true, ten, twelve), item(on, quota(ptr.To[int64](10), ptr.To[int64](12), 3)), false},
		"TurnOn":          {"on wanted, off on the server", d(true, ten, twelve), item(off, quota(ten, twelve, 3)), true},
		"TurnOff":         {"off wanted, on on the server", d(false, nil, nil), item(on, nil), true},
		"Off":             {"off and off", d(false, nil, nil), item(off, nil), false},
		"OffQuotaIgnored": {"a disabled item's quota is not compared", d(false, ten, twelve), item(off, quota(nil, ptr.To[int64](1), 3)), false},
		"Value":           {"another soft quota", d(true, ten, twelve), item(on, quota(ptr.To[int64](11), twelve, 3)), true},
		"Overage":         {"another hard quota", d(true, ten, twelve), item(on, quota(ten, ptr.To[int64](13), 3)), true},
		"ValueUnlimited":  {"an unlimited soft quota wanted, a limit on the server", d(true, nil, twelve), item(on, quota(ten, twelve, 3)), true},
		"OverageLimited":  {"a hard quota wanted, unlimited on the server", d(true, ten, twelve), item(on, quota(ten, nil, 3)), true},
		"NoQuota":         {"limits wanted, the server shows no quota (unlimited)", d(true, ten, nil), item(on, nil), true},
		"UnlimitedNoQuota": {"unlimited wanted and no quota on the server",
			d(true, nil, nil), item(on, nil), false},
		"UnlimitedNullQuota": {"unlimited wanted and a quota of nulls on the server",
			d(true, nil, nil), item(on, quota(nil, nil, 3)), false},
		"ZeroIsALimit": {"zero is a limit, not unlimited", d(true, ptr.To[int64](0), nil), item(on, quota(nil, nil, 3)), true},
		"VersionIgnored": {"the quota version is not a difference",
			d(true, ten, twelve), item(on, quota(ten, twelve, 99)), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, differs(tc.d, tc.item)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestChange(t *testing.T) {
	const on, off = accountserver.ItemStatusOn, accountserver.ItemStatusOff
	ten, twelve := ptr.To[int64](10), ptr.To[int64](12)
	cases := map[string]struct {
		reason string
		d      desired
		item   accountserver.OfferingItem
		want   accountserver.OfferingItemChange
	}{
		"Quota": {"an enabled item carries its limits and the quota version read",
			desired{key: key{app: testApp, name: "servers"}, enabled: true, value: ten, overage: twelve},
			serverItem(testApp, "servers", "", on, quota(ptr.To[int64](1), nil, 7)),
			accountserver.OfferingItemChange{ApplicationID: testApp, Name: "servers", Status: on,
				Quota: &accountserver.Quota{Value: ten, Overage: twelve, Version: 7}}},
		"Unlimited": {"an unlimited enabled item still sends a quota (of nulls), so limits on the server are lifted",
			desired{key: key{app: testApp, name: "servers"}, enabled: true},
			serverItem(testApp, "servers", "", on, quota(ten, twelve, 4)),
			accountserver.OfferingItemChange{ApplicationID: testApp, Name: "servers", Status: on,
				Quota: &accountserver.Quota{Version: 4}}},
		"TurnOnNoQuota": {"turning on an item the server shows without a quota: version 0",
			desired{key: key{app: testApp, name: "vms"}, enabled: true, value: ten},
			serverItem(testApp, "vms", "", off, nil),
			accountserver.OfferingItemChange{ApplicationID: testApp, Name: "vms", Status: on,
				Quota: &accountserver.Quota{Value: ten}}},
		"TurnOff": {"a disabled item sends no quota, whatever the spec's limits",
			desired{key: key{app: testApp, name: "servers"}, enabled: false, value: ten, overage: twelve},
			serverItem(testApp, "servers", "", on, quota(ten, twelve, 5)),
			accountserver.OfferingItemChange{ApplicationID: testApp, Name: "servers", Status: off}},
		"Storage": {"an infra item carries the server's storage",
			desired{key: key{app: testApp, name: "storage", infra: testInfraA}, enabled: true, value: ptr.To[int64](1 << 40)},
			serverItem(testApp, "storage", testInfraA, on, quota(nil, nil, 2)),
			accountserver.OfferingItemChange{ApplicationID: testApp, Name: "storage", Status: on, InfraID: ptr.To(testInfraA),
				Quota: &accountserver.Quota{Value: ptr.To[int64](1 << 40), Version: 2}}},
		"StorageOff": {"turning an infra item off carries its storage too",
			desired{key: key{app: testApp, name: "storage", infra: testInfraA}},
			serverItem(testApp, "storage", testInfraA, on, quota(nil, nil, 2)),
			accountserver.OfferingItemChange{ApplicationID: testApp, Name: "storage", Status: off, InfraID: ptr.To(testInfraA)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, change(tc.d, tc.item)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
