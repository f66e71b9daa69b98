package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	allItemsOn = []string{
		"adv_mobiles@", "adv_servers@", "adv_vms@", "adv_workstations@", "cloud_servers@", "compute_points@",
		"dr_cloud_servers@", "dr_public_ips@", "dr_storage@" + DefaultInfraID, "fc_seats@", "fc_storage@" + DefaultFilesInfraID,
		"local_backup@", "mobiles@", "public_ips@", "servers@", "storage@" + DefaultInfraID, "vms@", "workstations@",
	}
	standardItemsOn = []string{
		"dr_cloud_servers@", "dr_public_ips@", "dr_storage@" + DefaultInfraID, "fc_seats@", "fc_storage@" + DefaultFilesInfraID,
		"local_backup@", "mobiles@", "servers@", "storage@" + DefaultInfraID, "vms@", "workstations@",
	}
)

func TestInheritedOfferingItems(t *testing.T) {
	w := newWorld(t, Options{})
	cases := map[string]struct {
		reason string
		tenant string
		want   []string
	}{
		"Root":     {"the root holds the whole catalog", w.root.ID, allItemsOn},
		"Provider": {"the seeded Provider holds the whole catalog", w.provider.ID, allItemsOn},
		"Partner":  {"a partner inherits every item its parent has on", w.partner.ID, allItemsOn},
		"Customer": {"a customer inherits one edition per application, the standard one first", w.customer.ID, standardItemsOn},
		"Unit":     {"a unit inherits its customer's items", w.unit.ID, standardItemsOn},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			items := w.env.srv.OfferingItems(tc.tenant)
			if diff := cmp.Diff(tc.want, onNames(items)); diff != "" {
				t.Errorf("%s: items on -want +got:\n%s", tc.reason, diff)
			}
			if len(items) != len(allItemsOn) {
				t.Errorf("%s: %d items, want one per catalog item: %d", tc.reason, len(items), len(allItemsOn))
			}
			for _, it := range items {
				if it.Quota.Value != nil || it.Quota.Overage != nil || it.Quota.Version == 0 || it.TenantID != tc.tenant {
					t.Errorf("%s: item %s starts with quota %+v tenant %s, want unlimited with a version", tc.reason, it.Name, it.Quota, it.TenantID)
				}
			}
		})
	}
}

func TestGetOfferingItems(t *testing.T) {
	w := newWorld(t, Options{})
	names := func(items []OfferingItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Name)
		}
		slices.Sort(out)
		return out
	}
	cases := map[string]struct {
		reason string
		tenant string
		query  string
		want   errCode
		names  []string
	}{
		"DefaultEdition": {"without edition only standard items and items without edition come back", w.partner.ID, "", errCode{Status: 200},
			[]string{"dr_cloud_servers", "dr_public_ips", "dr_storage", "fc_seats", "fc_storage", "local_backup", "mobiles", "servers", "storage", "vms", "workstations"}},
		"AllEditions": {"edition=* returns every edition", w.partner.ID, "?edition=*", errCode{Status: 200},
			[]string{"adv_mobiles", "adv_servers", "adv_vms", "adv_workstations", "cloud_servers", "compute_points", "dr_cloud_servers", "dr_public_ips", "dr_storage", "fc_seats", "fc_storage", "local_backup", "mobiles", "public_ips", "servers", "storage", "vms", "workstations"}},
		"Advanced": {"items without an edition survive an edition filter", w.partner.ID, "?edition=advanced", errCode{Status: 200},
			[]string{"adv_mobiles", "adv_servers", "adv_vms", "adv_workstations", "dr_storage", "fc_seats", "fc_storage", "local_backup", "storage"}},
		"UsageNames": {"usage_names filters by usage, across editions with *", w.partner.ID, "?edition=*&usage_names=workstations,storage", errCode{Status: 200},
			[]string{"adv_workstations", "storage", "workstations"}},
		"StatusOff": {"status=0 lists what is off", w.customer.ID, "?edition=*&status=0", errCode{Status: 200},
			[]string{"adv_mobiles", "adv_servers", "adv_vms", "adv_workstations", "cloud_servers", "compute_points", "public_ips"}},
		"TypeInfra":  {"type filters by item type", w.customer.ID, "?type=infra", errCode{Status: 200}, []string{"dr_storage", "fc_storage", "storage"}},
		"InfraUUID":  {"infra_uuid filters by infrastructure", w.customer.ID, "?infra_uuid=" + DefaultFilesInfraID, errCode{Status: 200}, []string{"fc_storage"}},
		"Available":  {"available_only keeps what the parent has on", w.unit.ID, "?edition=*&available_only=true&type=count", errCode{Status: 200}, []string{"dr_cloud_servers", "dr_public_ips", "fc_seats", "mobiles", "servers", "vms", "workstations"}},
		"BadStatus":  {"status is 0 or 1", w.customer.ID, "?status=2", errCode{400, 400}, nil},
		"BadType":    {"type is one of the reference's values", w.customer.ID, "?type=disk", errCode{400, 400}, nil},
		"BadInfra":   {"infra_uuid is a UUID", w.customer.ID, "?infra_uuid=nope", errCode{400, 400}, nil},
		"Outside":    {"the root is outside the caller's subtree", w.root.ID, "", errCode{403, codeAccessDenied}, nil},
		"NoSuchOne":  {"an unknown tenant is 404", "00000000-0000-4000-8000-000000000000", "", errCode{404, codeTenantNotFound}, nil},
		"ForChildOK": {"available_for_child lists what the tenant has on", w.customer.ID, "/available_for_child?kind=unit", errCode{Status: 200}, []string{"dr_cloud_servers", "dr_public_ips", "dr_storage", "fc_seats", "fc_storage", "local_backup", "mobiles", "servers", "storage", "vms", "workstations"}},
		"ForChildAllEditions": {"available_for_child honours edition=*", w.customer.ID, "/available_for_child?edition=*", errCode{Status: 200},
			[]string{"dr_cloud_servers", "dr_public_ips", "dr_storage", "fc_seats", "fc_storage", "local_backup", "mobiles", "servers", "storage", "vms", "workstations"}},
		"ForChildBadKind": {"a partner cannot sit under a customer", w.customer.ID, "/available_for_child?kind=partner", errCode{400, 400}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := "/tenants/" + tc.tenant + "/offering_items" + tc.query
			if strings.HasPrefix(tc.query, "/") {
				path = "/tenants/" + tc.tenant + "/offering_items" + tc.query
			}
			r := w.env.api.do(http.MethodGet, path, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.names == nil {
				return
			}
			var body struct {
				Items []OfferingItem `json:"items"`
			}
			mustUnmarshal(t, r.body, &body)
			if diff := cmp.Diff(tc.names, names(body.Items)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// putItems sends PUT /tenants/{id}/offering_items.
func (w *world) putItems(tenantID string, body any) response {
	return w.env.api.do(http.MethodPut, "/tenants/"+tenantID+"/offering_items", body)
}

func quotaOf(value, overage float64, version int64) map[string]any {
	return map[string]any{"value": value, "overage": overage, "version": version}
}

func TestPutOfferingItems(t *testing.T) {
	version := func(t *testing.T, w *world, tenantID, name, infra string) int64 {
		return storedItem(t, w.env.srv, tenantID, name, infra).Quota.Version
	}
	status := func(t *testing.T, w *world, tenantID, name, infra string) int {
		return storedItem(t, w.env.srv, tenantID, name, infra).Status
	}
	type item = map[string]any
	body := func(items ...item) map[string]any {
		return map[string]any{"offering_items": append([]item{}, items...), "check_usage": true}
	}
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, w *world)
		tenant func(w *world) string
		body   func(t *testing.T, w *world) any
		ct     string
		want   errCode
		check  func(t *testing.T, w *world, r response)
	}{
		"SetQuota": {
			reason: "a quota with the current version is set and gets a new version",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "workstations", "status": 1, "quota": quotaOf(10, 12, version(t, w, w.customer.ID, "workstations", ""))})
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, w *world, r response) {
				var got struct {
					Items []OfferingItem `json:"items"`
				}
				mustUnmarshal(t, r.body, &got)
				stored := storedItem(t, w.env.srv, w.customer.ID, "workstations", "")
				if diff := cmp.Diff([]OfferingItem{stored}, got.Items); diff != "" {
					t.Errorf("answer and store differ: -store +answer:\n%s", diff)
				}
				if *stored.Quota.Value != 10 || *stored.Quota.Overage != 12 {
					t.Errorf("stored quota = %v/%v, want 10/12", *stored.Quota.Value, *stored.Quota.Overage)
				}
			},
		},
		"StaleQuotaVersion": {
			reason: "a stale quota version is refused with 426",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "workstations", "status": 1, "quota": quotaOf(10, 12, version(t, w, w.customer.ID, "workstations", "")-1)})
			},
			want: errCode{426, codeVersionMismatch},
			check: func(t *testing.T, w *world, r response) {
				if q := storedItem(t, w.env.srv, w.customer.ID, "workstations", "").Quota; q.Value != nil {
					t.Errorf("quota changed to %v despite the stale version", *q.Value)
				}
			},
		},
		"NotOfferedByParent": {
			reason: "a child can only turn on what its parent has on (1021)",
			setup: func(t *testing.T, w *world) {
				if r := w.putItems(w.partner.ID, body(item{"application_id": CyberProtectionAppID, "name": "servers", "status": 0})); r.status != 200 {
					t.Fatalf("partner turns servers off: %d %s", r.status, r.body)
				}
			},
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "servers", "status": 1})
			},
			want: errCode{400, codeItemNotAvailable},
			check: func(t *testing.T, w *world, r response) {
				if s := status(t, w, w.customer.ID, "servers", ""); s != 0 {
					t.Errorf("customer servers status = %d, want 0", s)
				}
			},
		},
		"CascadeOff": {
			reason: "turning an item off turns it off below",
			tenant: func(w *world) string { return w.partner.ID },
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "vms", "status": 0})
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, w *world, r response) {
				for _, id := range []string{w.partner.ID, w.customer.ID, w.unit.ID} {
					if s := status(t, w, id, "vms", ""); s != 0 {
						t.Errorf("vms of %s = %d, want 0", id, s)
					}
				}
				if s := status(t, w, w.p2.ID, "vms", ""); s != 1 {
					t.Errorf("the sibling partner lost vms")
				}
			},
		},
		"OneEditionPerCustomer": {
			reason: "a customer cannot hold two editions of an application (1027)",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "adv_workstations", "status": 1})
			},
			want: errCode{400, codeBusinessRules},
			check: func(t *testing.T, w *world, r response) {
				if s := status(t, w, w.customer.ID, "adv_workstations", ""); s != 0 {
					t.Errorf("adv_workstations = %d, want 0", s)
				}
			},
		},
		"PartnersHoldEditions": {
			reason: "a partner may hold several editions",
			tenant: func(w *world) string { return w.partner.ID },
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "adv_workstations", "status": 1},
					item{"application_id": CyberProtectionAppID, "name": "workstations", "status": 1})
			},
			want: errCode{Status: 200},
		},
		"Dependency": {
			reason: "fc_storage needs fc_seats (1023)",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": FileSyncShareAppID, "name": "fc_seats", "status": 0})
			},
			want: errCode{400, codeItemDependency},
			check: func(t *testing.T, w *world, r response) {
				if s := status(t, w, w.customer.ID, "fc_seats", ""); s != 1 {
					t.Errorf("fc_seats = %d, want 1", s)
				}
			},
		},
		"DependencyBothOff": {
			reason: "turning both off together is fine",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": FileSyncShareAppID, "name": "fc_seats", "status": 0},
					item{"application_id": FileSyncShareAppID, "name": "fc_storage", "infra_id": DefaultFilesInfraID, "status": 0})
			},
			want: errCode{Status: 200},
		},
		"DefaultStorage": {
			reason: "the default storage stays on while the application's other items are on (1017)",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "storage", "infra_id": DefaultInfraID, "status": 0})
			},
			want: errCode{400, codeDefaultStorage},
		},
		"StorageInUse": {
			reason: "storage in use cannot be turned off with check_usage (1016)",
			setup:  func(t *testing.T, w *world) { w.env.srv.SetUsage(w.unit.ID, "storage", DefaultInfraID, 1<<30) },
			body: func(t *testing.T, w *world) any {
				return body(cpAllOff(DefaultInfraID)...)
			},
			want: errCode{400, codeStorageInUse},
			check: func(t *testing.T, w *world, r response) {
				if s := status(t, w, w.customer.ID, "storage", DefaultInfraID); s != 1 {
					t.Errorf("storage = %d, want 1", s)
				}
			},
		},
		"StorageInUseUnchecked": {
			reason: "without check_usage storage in use can be turned off",
			setup:  func(t *testing.T, w *world) { w.env.srv.SetUsage(w.customer.ID, "storage", DefaultInfraID, 1<<30) },
			body: func(t *testing.T, w *world) any {
				return map[string]any{"offering_items": cpAllOff(DefaultInfraID)}
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, w *world, r response) {
				if s := status(t, w, w.unit.ID, "storage", DefaultInfraID); s != 0 {
					t.Errorf("unit storage = %d, want 0 (cascade)", s)
				}
			},
		},
		"CountInUse": {
			reason: "a count item in use cannot be turned off with check_usage (1027)",
			setup:  func(t *testing.T, w *world) { w.env.srv.SetUsage(w.customer.ID, "workstations", "", 3) },
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "workstations", "status": 0})
			},
			want: errCode{400, codeBusinessRules},
		},
		"HardQuotaBelowUsage": {
			reason: "a hard quota below the usage is refused with check_usage (1022)",
			setup:  func(t *testing.T, w *world) { w.env.srv.SetUsage(w.unit.ID, "workstations", "", 5) },
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "workstations", "status": 1, "quota": quotaOf(3, 4, version(t, w, w.customer.ID, "workstations", ""))})
			},
			want: errCode{400, codeHardQuotaExceeded},
		},
		"HardQuotaUnchecked": {
			reason: "without check_usage the quota is set anyway",
			setup:  func(t *testing.T, w *world) { w.env.srv.SetUsage(w.unit.ID, "workstations", "", 5) },
			body: func(t *testing.T, w *world) any {
				return map[string]any{"offering_items": []item{{"application_id": CyberProtectionAppID, "name": "workstations", "status": 1, "quota": quotaOf(3, 4, version(t, w, w.customer.ID, "workstations", ""))}}}
			},
			want: errCode{Status: 200},
		},
		"EchoedItem": {
			reason: "an item read with GET can be sent back with changes",
			body: func(t *testing.T, w *world) any {
				it := pickItem(t, w.items(t, w.customer.ID, ""), "mobiles", "")
				it.Status = 0
				return map[string]any{"offering_items": []OfferingItem{it}}
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, w *world, r response) {
				if s := status(t, w, w.customer.ID, "mobiles", ""); s != 0 {
					t.Errorf("mobiles = %d, want 0", s)
				}
			},
		},
		"UnknownField": {
			reason: "unknown fields are refused",
			body: func(t *testing.T, w *world) any {
				return map[string]any{"offering_items": []item{}, "force": true}
			},
			want: errCode{400, 400},
		},
		"UnknownItemField": {
			reason: "the items of the official body are open: unknown item fields are ignored",
			body: func(t *testing.T, w *world) any {
				return body(item{"application_id": CyberProtectionAppID, "name": "vms", "status": 1, "colour": "red"})
			},
			want: errCode{Status: 200},
		},
		"MissingList":  {reason: "offering_items is required", body: func(*testing.T, *world) any { return map[string]any{"check_usage": true} }, want: errCode{400, 400}},
		"WrongType":    {reason: "a JSON body needs the JSON content type", body: func(*testing.T, *world) any { return body() }, ct: "text/plain", want: errCode{415, 415}},
		"Outside":      {reason: "the root is outside the caller's subtree", tenant: func(w *world) string { return w.root.ID }, body: func(*testing.T, *world) any { return body() }, want: errCode{403, codeAccessDenied}},
		"NoSuchTenant": {reason: "an unknown tenant is 404", tenant: func(*world) string { return "00000000-0000-4000-8000-000000000000" }, body: func(*testing.T, *world) any { return body() }, want: errCode{404, codeTenantNotFound}},
		"NoSuchApp": {reason: "an unknown application is 404", body: func(*testing.T, *world) any {
			return body(item{"application_id": "00000000-0000-4000-8000-000000000000", "name": "vms", "status": 1})
		}, want: errCode{404, 404}},
		"NoSuchItem": {reason: "an unknown item name is 400", body: func(*testing.T, *world) any {
			return body(item{"application_id": CyberProtectionAppID, "name": "tapes", "status": 1})
		}, want: errCode{400, 400}},
		"InfraIDMissing": {reason: "infra items need infra_id", body: func(*testing.T, *world) any {
			return body(item{"application_id": CyberProtectionAppID, "name": "storage", "status": 1})
		}, want: errCode{400, 400}},
		"InfraIDUnknown": {reason: "an unknown infrastructure is 404", body: func(*testing.T, *world) any {
			return body(item{"application_id": CyberProtectionAppID, "name": "storage", "infra_id": "00000000-0000-4000-8000-000000000000", "status": 1})
		}, want: errCode{404, 404}},
		"BadStatus": {reason: "status is 0 or 1", body: func(*testing.T, *world) any {
			return body(item{"application_id": CyberProtectionAppID, "name": "vms", "status": 2})
		}, want: errCode{400, 400}},
		"NegativeQuota": {reason: "quotas are not negative", body: func(*testing.T, *world) any {
			return body(item{"application_id": CyberProtectionAppID, "name": "vms", "status": 1, "quota": map[string]any{"value": -1}})
		}, want: errCode{400, 400}},
		"SeedExample": {
			reason: "the reference's example is accepted once the quota versions are current",
			body: func(t *testing.T, w *world) any {
				raw := seedPutOfferingItems
				for _, it := range []struct{ name, infra string }{{"vms", ""}, {"storage", DefaultInfraID}, {"fc_storage", DefaultFilesInfraID}} {
					raw = strings.Replace(raw, `"version": 1486479690324`, `"version": `+jsonInt(version(t, w, w.customer.ID, it.name, it.infra)), 1)
				}
				return raw
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, w *world, r response) {
				got := map[string]string{}
				for _, it := range w.env.srv.OfferingItems(w.customer.ID) {
					if slices.Contains([]string{"vms", "workstations", "storage", "fc_storage", "fc_seats"}, it.Name) {
						q := "unlimited"
						if it.Quota.Value != nil {
							q = formatNumber(*it.Quota.Value) + "/" + formatNumber(*it.Quota.Overage)
						}
						got[it.Name] = string(rune('0'+it.Status)) + " " + q
					}
				}
				want := map[string]string{"vms": "1 10/10", "workstations": "0 unlimited", "storage": "1 10000/100000", "fc_storage": "1 100000/100000", "fc_seats": "1 unlimited"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("store after the example: -want +got:\n%s", diff)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, Options{})
			if tc.setup != nil {
				tc.setup(t, w)
			}
			tenant := w.customer.ID
			if tc.tenant != nil {
				tenant = tc.tenant(w)
			}
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			r := w.env.api.doCT(http.MethodPut, "/tenants/"+tenant+"/offering_items", tc.body(t, w), ct)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.check != nil {
				tc.check(t, w, r)
			}
		})
	}
}

// cpAllOff turns every Cyber Protection item of the standard edition off, storage included.
func cpAllOff(infraID string) []map[string]any {
	var out []map[string]any
	for _, n := range []string{"workstations", "servers", "vms", "mobiles", "local_backup"} {
		out = append(out, map[string]any{"application_id": CyberProtectionAppID, "name": n, "status": 0})
	}
	return append(out, map[string]any{"application_id": CyberProtectionAppID, "name": "storage", "infra_id": infraID, "status": 0})
}

// seedPutOfferingItems is the request example of PUT /tenants/{tenant_id}/offering_items in seed 001.
const seedPutOfferingItems = `{
"offering_items": [
{
"application_id": "a9fd8016-0e00-4ade-949e-6efe8672dac0",
"name": "vms",
"status": 1,
"quota": {
"value": 10,
"overage": 10,
"version": 1486479690324
}
},
{
"application_id": "a9fd8016-0e00-4ade-949e-6efe8672dac0",
"name": "workstations",
"status": 0
},
{
"name": "storage",
"quota": {
"value": 10000,
"overage": 100000,
"version": 1486479690324
},
"status": 1,
"infra_id": "4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01",
"application_id": "a9fd8016-0e00-4ade-949e-6efe8672dac0"
},
{
"name": "fc_storage",
"quota": {
"value": 100000,
"overage": 100000,
"version": 1486479690324
},
"status": 1,
"infra_id": "4fff10c4-1378-4bfc-877d-b66a0f8805ed",
"application_id": "71739a04-177f-4603-84ad-54a326ba76e4"
},
{
"application_id": "71739a04-177f-4603-84ad-54a326ba76e4",
"name": "fc_seats",
"status": 1
}
],
"check_usage": true
}`

func TestEditions(t *testing.T) {
	type want struct {
		code errCode
		// on lists the items of the application on in the tenant afterwards (from the store).
		on []string
		// blockers lists the names in error.context.offering_items.
		blockers []string
	}
	appOn := func(w *world, tenantID, appID string) []string {
		var out []string
		for _, it := range w.env.srv.OfferingItems(tenantID) {
			if it.ApplicationID == appID && it.Status == 1 {
				out = append(out, it.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	cpStandard := []string{"local_backup", "mobiles", "servers", "storage", "vms", "workstations"}
	cpAdvanced := []string{"adv_mobiles", "adv_servers", "adv_vms", "adv_workstations", "local_backup", "storage"}
	cases := map[string]struct {
		reason string
		setup  func(t *testing.T, w *world)
		tenant func(w *world) string
		method string
		app    string
		target string
		body   any
		want   want
		// unitOn is what the unit holds afterwards, for switches that cascade.
		unitOn []string
	}{
		"Check": {
			reason: "GET checks without switching",
			method: http.MethodGet, app: CyberProtectionAppID, target: EditionAdvanced,
			want: want{code: errCode{Status: 200}, on: cpStandard},
		},
		"Switch": {
			reason: "PUT moves the customer and its units to the target edition",
			method: http.MethodPut, app: CyberProtectionAppID, target: EditionAdvanced,
			want:   want{code: errCode{Status: 200}, on: cpAdvanced},
			unitOn: cpAdvanced,
		},
		"SeedExample": {
			reason: "the reference's example switches the Disaster Recovery application",
			method: http.MethodPut, body: `{
"target_edition": "disaster_recovery",
"application_id": "c6ab7fb4-b461-4214-9257-86fbad8efb85"
}`,
			app:    DisasterRecoveryAppID,
			want:   want{code: errCode{Status: 200}, on: []string{"cloud_servers", "dr_storage", "public_ips"}},
			unitOn: []string{"cloud_servers", "dr_storage", "public_ips"},
		},
		"BlockedByParent": {
			reason: "items the parent does not offer in the target edition block the switch (1021)",
			setup: func(t *testing.T, w *world) {
				if r := w.putItems(w.partner.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "adv_vms", "status": 0}}}); r.status != 200 {
					t.Fatalf("partner turns adv_vms off: %d %s", r.status, r.body)
				}
			},
			method: http.MethodPut, app: CyberProtectionAppID, target: EditionAdvanced,
			want: want{code: errCode{400, codeItemNotAvailable}, on: cpStandard, blockers: []string{"adv_vms"}},
		},
		"BlockedCheck": {
			reason: "the check reports the same blockers",
			setup: func(t *testing.T, w *world) {
				if r := w.putItems(w.partner.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "adv_servers", "status": 0}}}); r.status != 200 {
					t.Fatalf("partner turns adv_servers off: %d %s", r.status, r.body)
				}
			},
			method: http.MethodGet, app: CyberProtectionAppID, target: EditionAdvanced,
			want: want{code: errCode{400, codeItemNotAvailable}, on: cpStandard, blockers: []string{"adv_servers"}},
		},
		"BlockedByUsage": {
			reason: "an item in use without a counterpart in the target edition blocks the switch",
			setup: func(t *testing.T, w *world) {
				if r := w.env.api.do(http.MethodPut, "/tenants/"+w.customer.ID+"/edition", map[string]any{"target_edition": EditionDisasterRecovery, "application_id": DisasterRecoveryAppID}); r.status != 200 {
					t.Fatalf("switch to disaster_recovery: %d %s", r.status, r.body)
				}
				if r := w.putItems(w.customer.ID, map[string]any{"offering_items": []map[string]any{{"application_id": DisasterRecoveryAppID, "name": "compute_points", "status": 1}}}); r.status != 200 {
					t.Fatalf("compute_points on: %d %s", r.status, r.body)
				}
				w.env.srv.SetUsage(w.customer.ID, "compute_points", "", 3600)
			},
			method: http.MethodPut, app: DisasterRecoveryAppID, target: EditionStandard,
			want: want{code: errCode{400, codeItemNotAvailable}, on: []string{"cloud_servers", "compute_points", "dr_storage", "public_ips"}, blockers: []string{"compute_points"}},
		},
		"PartnerChildrenBlock": {
			reason: "a partner cannot drop an edition its children still use",
			tenant: func(w *world) string { return w.partner.ID },
			method: http.MethodPut, app: CyberProtectionAppID, target: EditionAdvanced,
			want: want{code: errCode{400, codeItemNotAvailable}, on: append(slices.Clone(cpAdvanced[:4]), "local_backup", "mobiles", "servers", "storage", "vms", "workstations"),
				blockers: []string{"mobiles", "mobiles", "servers", "servers", "vms", "vms", "workstations", "workstations"}},
		},
		"Unit": {
			reason: "a unit follows its customer", tenant: func(w *world) string { return w.unit.ID },
			method: http.MethodPut, app: CyberProtectionAppID, target: EditionAdvanced,
			want: want{code: errCode{400, codeBusinessRules}},
		},
		"UnknownEdition": {reason: "the edition must exist", method: http.MethodGet, app: CyberProtectionAppID, target: "gold", want: want{code: errCode{400, 400}, on: cpStandard}},
		"UnknownApp":     {reason: "the application must exist", method: http.MethodGet, app: "00000000-0000-4000-8000-000000000000", target: EditionAdvanced, want: want{code: errCode{404, 404}}},
		"MissingTarget":  {reason: "target_edition is required", method: http.MethodGet, app: CyberProtectionAppID, want: want{code: errCode{400, 400}, on: cpStandard}},
		"UnknownField": {reason: "unknown fields are refused", method: http.MethodPut, app: CyberProtectionAppID,
			body: map[string]any{"target_edition": EditionAdvanced, "application_id": CyberProtectionAppID, "force": true}, want: want{code: errCode{400, 400}, on: cpStandard}},
		"Outside": {reason: "the root is outside the caller's subtree", tenant: func(w *world) string { return w.root.ID },
			method: http.MethodPut, app: CyberProtectionAppID, target: EditionAdvanced, want: want{code: errCode{403, codeAccessDenied}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, Options{})
			if tc.setup != nil {
				tc.setup(t, w)
			}
			tenant := w.customer.ID
			if tc.tenant != nil {
				tenant = tc.tenant(w)
			}
			var r response
			if tc.method == http.MethodGet {
				q := url.Values{"application_id": {tc.app}}
				if tc.target != "" {
					q.Set("target_edition", tc.target)
				}
				r = w.env.api.do(http.MethodGet, "/tenants/"+tenant+"/edition?"+q.Encode(), nil)
			} else {
				b := tc.body
				if b == nil {
					b = map[string]any{"target_edition": tc.target, "application_id": tc.app}
				}
				r = w.env.api.do(http.MethodPut, "/tenants/"+tenant+"/edition", b)
			}
			if diff := cmp.Diff(tc.want.code, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.want.on != nil {
				if diff := cmp.Diff(tc.want.on, appOn(w, tenant, tc.app)); diff != "" {
					t.Errorf("%s: items on -want +got:\n%s", tc.reason, diff)
				}
			}
			if tc.unitOn != nil {
				if diff := cmp.Diff(tc.unitOn, appOn(w, w.unit.ID, tc.app)); diff != "" {
					t.Errorf("%s: unit items on -want +got:\n%s", tc.reason, diff)
				}
			}
			if tc.want.blockers != nil {
				var eb struct {
					Error struct {
						Context struct {
							OfferingItems []struct {
								Name   string `json:"name"`
								Reason string `json:"reason"`
							} `json:"offering_items"`
						} `json:"context"`
					} `json:"error"`
				}
				mustUnmarshal(t, r.body, &eb)
				var got []string
				for _, b := range eb.Error.Context.OfferingItems {
					if b.Reason == "" {
						t.Errorf("blocker %s has no reason", b.Name)
					}
					got = append(got, b.Name)
				}
				slices.Sort(got)
				if diff := cmp.Diff(tc.want.blockers, got); diff != "" {
					t.Errorf("%s: blockers -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestSwitchCarriesQuotas(t *testing.T) {
	w := newWorld(t, Options{})
	v := storedItem(t, w.env.srv, w.customer.ID, "servers", "").Quota.Version
	if r := w.putItems(w.customer.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "servers", "status": 1, "quota": quotaOf(7, 9, v)}}}); r.status != 200 {
		t.Fatalf("set quota: %d %s", r.status, r.body)
	}
	r := w.env.api.do(http.MethodPut, "/tenants/"+w.customer.ID+"/edition", map[string]any{"target_edition": EditionAdvanced, "application_id": CyberProtectionAppID})
	if r.status != 200 {
		t.Fatalf("switch: %d %s", r.status, r.body)
	}
	var body struct {
		Items []OfferingItem `json:"items"`
	}
	mustUnmarshal(t, r.body, &body)
	adv := pickItem(t, body.Items, "adv_servers", "")
	if adv.Status != 1 || adv.Quota.Value == nil || *adv.Quota.Value != 7 || *adv.Quota.Overage != 9 {
		t.Errorf("adv_servers after the switch = status %d quota %+v, want on with 7/9", adv.Status, adv.Quota)
	}
	if diff := cmp.Diff(adv, storedItem(t, w.env.srv, w.customer.ID, "adv_servers", "")); diff != "" {
		t.Errorf("answer and store differ: -answer +store:\n%s", diff)
	}
}

func TestBatchOfferingItems(t *testing.T) {
	w := newWorld(t, Options{})
	type page struct {
		Items  []OfferingItem `json:"items"`
		Paging Paging         `json:"paging"`
	}
	first := w.env.api.do(http.MethodGet, "/tenants/offering_items?subtree_root_tenant_id="+w.partner.ID+"&offering_items=workstations&limit=2", nil)
	if first.status != 200 {
		t.Fatalf("first page: %d %s", first.status, first.body)
	}
	var p1 page
	mustUnmarshal(t, first.body, &p1)
	if p1.Paging.Cursors.After == "" {
		t.Fatalf("first page has no cursor: %s", first.body)
	}
	// The official document requires subtree_root_tenant_id on every page; the cursor carries the rest.
	second := w.env.api.do(http.MethodGet, "/tenants/offering_items?subtree_root_tenant_id="+w.partner.ID+"&after="+url.QueryEscape(p1.Paging.Cursors.After), nil)
	if second.status != 200 {
		t.Fatalf("second page: %d %s", second.status, second.body)
	}
	var p2 page
	mustUnmarshal(t, second.body, &p2)
	var got []string
	for _, it := range append(p1.Items, p2.Items...) {
		got = append(got, it.TenantID+"/"+it.Name)
	}
	want := []string{w.partner.ID + "/workstations", w.customer.ID + "/workstations", w.unit.ID + "/workstations"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages, parents first: -want +got:\n%s", diff)
	}
	if p2.Paging.Cursors.After != "" {
		t.Errorf("last page has a cursor")
	}
	// The request log says whose items each page held: the request names no tenant.
	var logged [][]string
	for _, r := range w.env.srv.Requests() {
		if r.Path == "/api/2/tenants/offering_items" {
			logged = append(logged, r.Tenants)
		}
	}
	if diff := cmp.Diff([][]string{{w.partner.ID, w.customer.ID}, {w.unit.ID}}, logged); diff != "" {
		t.Errorf("tenants in the request log: -want +got:\n%s", diff)
	}
	cases := map[string]struct {
		reason string
		query  string
		want   errCode
	}{
		"MissingRoot": {"subtree_root_tenant_id is required", "", errCode{400, 400}},
		"Outside":     {"the root is outside the caller's subtree", "?subtree_root_tenant_id=" + w.root.ID, errCode{403, codeAccessDenied}},
		"BadCursor":   {"a broken cursor is 400", "?after=%%%", errCode{400, 400}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := w.env.api.do(http.MethodGet, "/tenants/offering_items"+tc.query, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Errorf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
		})
	}
}

// TestOfferingItemRoundTrip decodes an item written the way the reference describes it and encodes
// it back unchanged.
func TestOfferingItemRoundTrip(t *testing.T) {
	doc := `{"application_id":"a9fd8016-0e00-4ade-949e-6efe8672dac0","name":"storage","edition":null,"usage_name":"storage",` +
		`"tenant_id":"2a91a14d-ffd3-4ac1-9b4d-3990162c5acc","updated_at":"2016-06-22T18:25:16","deleted_at":null,"status":1,` +
		`"locked":false,"type":"infra","measurement_unit":"bytes","infra_id":"4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01",` +
		`"quota":{"value":10000,"overage":100000,"version":1486479690324}}`
	var it OfferingItem
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	out, _ := json.Marshal(it)
	var want, got any
	mustUnmarshal(t, []byte(doc), &want)
	mustUnmarshal(t, out, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip: -want +got:\n%s", diff)
	}
}

// seedPutItemPrices is the request example of PUT /tenants/{tenant_id}/offering_items/pricing in
// seed 001. Its application and infrastructure ids are not the emulator's; the test replaces them.
const seedPutItemPrices = `{
"items": [
{
"name": "storage",
"price": "0.05",
"version": 1497533157730,
"infra_id": "05348371-d95e-4cab-af2a-8e2cadafc30d",
"application_id": "b037d1f6-25cf-4a9c-98f1-d3e41c100948"
},
{
"application_id": "b037d1f6-25cf-4a9c-98f1-d3e41c100948",
"name": "servers",
"price": "600",
"version": 1497533157730
},
{
"application_id": "b037d1f6-25cf-4a9c-98f1-d3e41c100948",
"name": "vms",
"price": "0",
"version": 1497533157730
}
]
}`

func TestItemPrices(t *testing.T) {
	w := newWorld(t, Options{})
	prices := func(t *testing.T) map[string]ItemPrice {
		r := w.env.api.do(http.MethodGet, "/tenants/"+w.customer.ID+"/offering_items/pricing", nil)
		if r.status != 200 {
			t.Fatalf("GET pricing: %d %s", r.status, r.body)
		}
		var body struct {
			Items []ItemPrice `json:"items"`
		}
		mustUnmarshal(t, r.body, &body)
		out := map[string]ItemPrice{}
		for _, p := range body.Items {
			out[p.Name] = p
		}
		return out
	}
	if p := prices(t)["servers"]; p.Price == nil || *p.Price != "0" || p.Version != 0 {
		t.Fatalf("an unpriced item = %+v, want price \"0\" and version 0", p)
	}
	seed := strings.NewReplacer("b037d1f6-25cf-4a9c-98f1-d3e41c100948", CyberProtectionAppID, "05348371-d95e-4cab-af2a-8e2cadafc30d", DefaultInfraID, "1497533157730", "0").Replace(seedPutItemPrices)
	cases := []struct {
		reason string
		body   any
		want   errCode
	}{
		{"the reference's example, with the emulator's ids, sets prices", seed, errCode{Status: 200}},
		{"the example's versions are now stale", seed, errCode{409, codeVersionMismatch}},
		{"a price is a decimal string", map[string]any{"items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "vms", "price": "ten"}}}, errCode{400, 400}},
		{"the official items are open: unknown fields are ignored", map[string]any{"items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "vms", "price": "0", "currency": "EUR"}}}, errCode{Status: 200}},
		{"the application must exist", strings.ReplaceAll(seedPutItemPrices, "1497533157730", "0"), errCode{404, 404}},
		{"items is required", map[string]any{}, errCode{400, 400}},
	}
	for _, tc := range cases {
		r := w.env.api.do(http.MethodPut, "/tenants/"+w.customer.ID+"/offering_items/pricing", tc.body)
		if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
			t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
		}
	}
	got := map[string]string{}
	for name, p := range prices(t) {
		if p.Price == nil {
			t.Errorf("price of %s is null, want a string", name)
			continue
		}
		if p.Version != 0 {
			got[name] = *p.Price
		} else if *p.Price != "0" {
			t.Errorf("the unset price of %s reads %q, want \"0\"", name, *p.Price)
		}
	}
	if diff := cmp.Diff(map[string]string{"storage": "0.05", "servers": "600", "vms": "0"}, got); diff != "" {
		t.Errorf("prices: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(errCode{403, codeAccessDenied}, w.env.api.do(http.MethodGet, "/tenants/"+w.root.ID+"/offering_items/pricing", nil).code(t)); diff != "" {
		t.Errorf("root's prices: -want +got:\n%s", diff)
	}
}
