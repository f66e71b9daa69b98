package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedPostInfra is the request example of POST /infra in seed 001; OWNER is replaced. Its location
// is the emulator's platform location.
const seedPostInfra = `{
"capabilities": [
"backup",
"disaster_recovery"
],
"name": "Default Infrastructure Component",
"url": "acronis+fes://storage20.acronis.com:44445",
"owner_tenant_id": "OWNER",
"location_id": "bfdf24b0-5a72-49a8-a2bd-2fc7c085ff7b",
"content_url": "https://browse.storage20.acronis.com/",
"backend_type": "azure",
"content_mobile_url": "https://browse.storage20.acronis.com/mobile/"
}`

// seedPutInfra is the request example of PUT /infra/{infra_id} in seed 001; VERSION is replaced.
const seedPutInfra = `{
"capabilities": [
"files_cloud"
],
"name": "Infrastructure Component",
"url": "acronis+fes://storage20.corp.acronis.com:44445",
"version": VERSION,
"content_url": "https://browse.storage20.corp.acronis.com/",
"backend_type": "azure",
"content_mobile_url": "https://browse.storage20.corp.acronis.com/mobile/"
}`

func (w *world) createInfra(t *testing.T, owner, locationID string, caps ...string) Infra {
	t.Helper()
	r := w.env.api.do(http.MethodPost, "/infra", map[string]any{
		"owner_tenant_id": owner, "location_id": locationID, "name": "Storage", "url": "acronis+fes://s.example.com:44445", "capabilities": caps,
	})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /infra: %d %s", r.status, r.body)
	}
	var in Infra
	mustUnmarshal(t, r.body, &in)
	return in
}

func TestCreateInfra(t *testing.T) {
	w := newWorld(t, Options{})
	p2loc := w.createLocation(t, w.p2.ID, "P2 site")
	base := func(change func(m map[string]any)) map[string]any {
		m := map[string]any{"owner_tenant_id": w.partner.ID, "location_id": DefaultLocationID, "name": "S", "url": "acronis+fes://s.example.com:44445", "capabilities": []string{"backup"}}
		if change != nil {
			change(m)
		}
		return m
	}
	cases := map[string]struct {
		reason string
		body   any
		ct     string
		want   errCode
		infra  *Infra // compared without id and version
	}{
		"SeedExample": {"the reference's example is accepted", strings.Replace(seedPostInfra, "OWNER", w.partner.ID, 1), "", errCode{Status: 201}, &Infra{
			OwnerTenantID: w.partner.ID, LocationID: DefaultLocationID, Name: "Default Infrastructure Component", URL: "acronis+fes://storage20.acronis.com:44445",
			Capabilities: []string{"backup", "disaster_recovery"}, ContentURL: ptr("https://browse.storage20.acronis.com/"),
			ContentMobileURL: ptr("https://browse.storage20.acronis.com/mobile/"), BackendType: "azure",
		}},
		"OtherOwnersLocation": {"a storage sits in a location of its owner or above (1031)", base(func(m map[string]any) { m["location_id"] = p2loc.ID }), "", errCode{409, codeLocationConflict}, nil},
		"NoLocation":          {"the location must exist", base(func(m map[string]any) { m["location_id"] = "00000000-0000-4000-8000-000000000000" }), "", errCode{404, 404}, nil},
		"BadURL":              {"url follows the reference's pattern", base(func(m map[string]any) { m["url"] = "storage20" }), "", errCode{400, 400}, nil},
		"BadContentURL":       {"content_url follows the pattern too", base(func(m map[string]any) { m["content_url"] = "http://" }), "", errCode{400, 400}, nil},
		"BadCapability":       {"capabilities are the reference's values", base(func(m map[string]any) { m["capabilities"] = []string{"tape"} }), "", errCode{400, 400}, nil},
		"NoCapabilities":      {"capabilities are required", base(func(m map[string]any) { delete(m, "capabilities") }), "", errCode{400, 400}, nil},
		"NoName":              {"name is required", base(func(m map[string]any) { delete(m, "name") }), "", errCode{400, 400}, nil},
		"UnknownField":        {"unknown fields are refused", base(func(m map[string]any) { m["size"] = 1 }), "", errCode{400, 400}, nil},
		"VersionOnCreate":     {"the server sets the version", base(func(m map[string]any) { m["version"] = 1 }), "", errCode{400, 400}, nil},
		"Outside":             {"the root is outside the caller's subtree", base(func(m map[string]any) { m["owner_tenant_id"] = w.root.ID }), "", errCode{403, codeAccessDenied}, nil},
		"ContentType":         {"the body must be JSON", base(nil), "text/plain", errCode{415, 415}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			r := w.env.api.doCT(http.MethodPost, "/infra", tc.body, ct)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.infra == nil {
				return
			}
			var got Infra
			mustUnmarshal(t, r.body, &got)
			want := *tc.infra
			want.ID, want.Version = got.ID, got.Version
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
			stored, _ := w.env.srv.Infra(got.ID)
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("%s: store -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestInfraOfferingItems(t *testing.T) {
	w := newWorld(t, Options{})
	in := w.createInfra(t, w.partner.ID, DefaultLocationID, "backup")
	cases := map[string]struct {
		reason string
		tenant string
		want   []int // status of storage@in; nil means no such item
	}{
		"Owner":   {"the owner has its storage on", w.partner.ID, []int{1}},
		"Below":   {"tenants below get the item off", w.customer.ID, []int{0}},
		"Unit":    {"and so do units", w.unit.ID, []int{0}},
		"Sibling": {"tenants outside the owner's subtree do not get it", w.p2.ID, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []int
			for _, it := range w.env.srv.OfferingItems(tc.tenant) {
				if it.infraID() == in.ID {
					got = append(got, it.Status)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
	t.Run("ChildEnables", func(t *testing.T) {
		r := w.putItems(w.customer.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "storage", "infra_id": in.ID, "status": 1}}})
		if r.status != 200 || storedItem(t, w.env.srv, w.customer.ID, "storage", in.ID).Status != 1 {
			t.Fatalf("a customer turns on its partner's storage: %d %s", r.status, r.body)
		}
	})
	t.Run("NewTenantsInherit", func(t *testing.T) {
		c := w.env.api.createTenant(w.partner.ID, "Late customer", KindCustomer)
		if s := storedItem(t, w.env.srv, c.ID, "storage", in.ID).Status; s != 1 {
			t.Errorf("a customer created later has the partner's storage %d, want 1", s)
		}
	})
}

func TestUpdateAndDeleteInfra(t *testing.T) {
	cases := map[string]struct {
		reason string
		do     func(t *testing.T, w *world, in Infra) response
		want   errCode
		check  func(t *testing.T, w *world, in Infra)
	}{
		"SeedExample": {
			reason: "the reference's example replaces the fields it lists",
			do: func(t *testing.T, w *world, in Infra) response {
				return w.env.api.do(http.MethodPut, "/infra/"+in.ID, strings.Replace(seedPutInfra, "VERSION", jsonInt(in.Version), 1))
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, w *world, in Infra) {
				got, _ := w.env.srv.Infra(in.ID)
				want := in
				want.Version = got.Version
				want.Capabilities = []string{"files_cloud"}
				want.Name = "Infrastructure Component"
				want.URL = "acronis+fes://storage20.corp.acronis.com:44445"
				want.ContentURL = ptr("https://browse.storage20.corp.acronis.com/")
				want.ContentMobileURL = ptr("https://browse.storage20.corp.acronis.com/mobile/")
				want.BackendType = "azure"
				if diff := cmp.Diff(want, got); diff != "" || got.Version <= in.Version {
					t.Errorf("stored infra -want +got:\n%s", diff)
				}
				var names []string
				for _, it := range w.env.srv.OfferingItems(w.partner.ID) {
					if it.infraID() == in.ID {
						names = append(names, it.Name)
					}
				}
				if diff := cmp.Diff([]string{"fc_storage"}, names); diff != "" {
					t.Errorf("items follow the capabilities: -want +got:\n%s", diff)
				}
			},
		},
		"Stale": {
			reason: "a stale version is 409",
			do: func(t *testing.T, w *world, in Infra) response {
				return w.env.api.do(http.MethodPut, "/infra/"+in.ID, map[string]any{"name": "X", "version": in.Version - 1})
			},
			want: errCode{409, codeVersionMismatch},
		},
		"NoVersion": {
			reason: "version is required",
			do: func(t *testing.T, w *world, in Infra) response {
				return w.env.api.do(http.MethodPut, "/infra/"+in.ID, map[string]any{"name": "X"})
			},
			want: errCode{400, 400},
		},
		"MoveToOtherOwner": {
			reason: "moving a storage into a location of another owner is a conflict (1031)",
			do: func(t *testing.T, w *world, in Infra) response {
				l := w.createLocation(t, w.p2.ID, "Elsewhere")
				return w.env.api.do(http.MethodPut, "/infra/"+in.ID, map[string]any{"location_id": l.ID, "version": in.Version})
			},
			want: errCode{409, codeLocationConflict},
		},
		"Move": {
			reason: "moving a storage into its owner's location works",
			do: func(t *testing.T, w *world, in Infra) response {
				l := w.createLocation(t, w.partner.ID, "Own")
				return w.env.api.do(http.MethodPut, "/infra/"+in.ID, map[string]any{"location_id": l.ID, "version": in.Version})
			},
			want: errCode{Status: 200},
		},
		"OwnerFixed": {
			reason: "the owner cannot be changed",
			do: func(t *testing.T, w *world, in Infra) response {
				return w.env.api.do(http.MethodPut, "/infra/"+in.ID, map[string]any{"owner_tenant_id": w.p2.ID, "version": in.Version})
			},
			want: errCode{400, 400},
		},
		"PlatformReadOnly": {
			reason: "the platform's storage cannot be changed from below the root",
			do: func(t *testing.T, w *world, in Infra) response {
				d, _ := w.env.srv.Infra(DefaultInfraID)
				return w.env.api.do(http.MethodPut, "/infra/"+DefaultInfraID, map[string]any{"name": "Mine", "version": d.Version})
			},
			want: errCode{403, codeAccessDenied},
		},
		"Delete": {
			reason: "a storage nobody uses is deleted and its items go",
			do: func(t *testing.T, w *world, in Infra) response {
				return w.env.api.do(http.MethodDelete, "/infra/"+in.ID+"?version="+jsonInt(in.Version), nil)
			},
			want: errCode{Status: 204},
			check: func(t *testing.T, w *world, in Infra) {
				if _, ok := w.env.srv.Infra(in.ID); ok {
					t.Errorf("still stored")
				}
				for _, it := range w.env.srv.OfferingItems(w.partner.ID) {
					if it.infraID() == in.ID {
						t.Errorf("item %s of the deleted storage is still live", it.Name)
					}
				}
				if diff := cmp.Diff(errCode{404, 404}, w.env.api.do(http.MethodGet, "/infra/"+in.ID, nil).code(t)); diff != "" {
					t.Errorf("GET after delete: -want +got:\n%s", diff)
				}
			},
		},
		"DeleteUsedByCustomer": {
			reason: "a storage a customer has on cannot be deleted (1016)",
			do: func(t *testing.T, w *world, in Infra) response {
				if r := w.putItems(w.customer.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "storage", "infra_id": in.ID, "status": 1}}}); r.status != 200 {
					t.Fatalf("customer turns it on: %d %s", r.status, r.body)
				}
				return w.env.api.do(http.MethodDelete, "/infra/"+in.ID+"?version="+jsonInt(in.Version)+"&force=true", nil)
			},
			want: errCode{409, codeStorageInUse},
		},
		"DeleteWithUsage": {
			reason: "a storage holding usage needs force",
			do: func(t *testing.T, w *world, in Infra) response {
				w.env.srv.SetUsage(w.partner.ID, "storage", in.ID, 10)
				return w.env.api.do(http.MethodDelete, "/infra/"+in.ID+"?version="+jsonInt(in.Version), nil)
			},
			want: errCode{409, codeStorageInUse},
		},
		"DeleteForced": {
			reason: "force ignores usage when no customer has the storage on",
			do: func(t *testing.T, w *world, in Infra) response {
				w.env.srv.SetUsage(w.partner.ID, "storage", in.ID, 10)
				return w.env.api.do(http.MethodDelete, "/infra/"+in.ID+"?version="+jsonInt(in.Version)+"&force=true", nil)
			},
			want: errCode{Status: 204},
		},
		"DeleteStale": {
			reason: "delete with a stale version is 409",
			do: func(t *testing.T, w *world, in Infra) response {
				return w.env.api.do(http.MethodDelete, "/infra/"+in.ID+"?version="+jsonInt(in.Version+1), nil)
			},
			want: errCode{409, codeVersionMismatch},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, Options{})
			in := w.createInfra(t, w.partner.ID, DefaultLocationID, "backup")
			r := tc.do(t, w, in)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.check != nil {
				tc.check(t, w, in)
			} else if r.status >= 400 {
				if got, _ := w.env.srv.Infra(in.ID); !cmp.Equal(in, got) {
					t.Errorf("%s: a refused request changed the storage: %s", tc.reason, cmp.Diff(in, got))
				}
			}
		})
	}
}

func TestReadInfra(t *testing.T) {
	w := newWorld(t, Options{})
	own := w.createInfra(t, w.partner.ID, DefaultLocationID, "backup")
	other := w.createInfra(t, w.p2.ID, DefaultLocationID, "files_cloud")
	id, secret := w.env.api.createClient(w.partner.ID)
	partnerAPI := w.env.as(id, secret)
	def, _ := w.env.srv.Infra(DefaultInfraID)
	def.Readonly = true
	cases := map[string]struct {
		reason string
		api    *apiCaller
		path   string
		want   errCode
		body   any
	}{
		"Platform":    {"the platform's storage is visible and read-only below the root", partnerAPI, "/infra/" + DefaultInfraID, errCode{Status: 200}, def},
		"Own":         {"a storage of the subtree", partnerAPI, "/infra/" + own.ID, errCode{Status: 200}, own},
		"Sibling":     {"a sibling's storage is out of scope", partnerAPI, "/infra/" + other.ID, errCode{403, codeAccessDenied}, nil},
		"Missing":     {"an unknown storage is 404", nil, "/infra/00000000-0000-4000-8000-000000000000", errCode{404, 404}, nil},
		"Batch":       {"GET /infra?uuids= lists them", nil, "/infra?uuids=" + own.ID + "," + DefaultInfraID, errCode{Status: 200}, map[string]any{"items": []Infra{own, def}}},
		"BatchNeeds":  {"uuids is required", nil, "/infra", errCode{400, 400}, nil},
		"BatchBadIDs": {"uuids are UUIDs", nil, "/infra?uuids=abc", errCode{400, 400}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			api := tc.api
			if api == nil {
				api = w.env.api
			}
			r := api.do(http.MethodGet, tc.path, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.body != nil {
				var got any
				mustUnmarshal(t, r.body, &got)
				if diff := cmp.Diff(normalizeJSON(t, tc.body), got); diff != "" {
					t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}
