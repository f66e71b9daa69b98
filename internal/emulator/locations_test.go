package emulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedPostLocation is the request example of POST /locations in seed 001; OWNER is replaced.
const seedPostLocation = `{
"owner_tenant_id": "OWNER",
"name": "Boston Infrastructure"
}`

func (w *world) createLocation(t *testing.T, owner, name string) Location {
	t.Helper()
	r := w.env.api.do(http.MethodPost, "/locations", map[string]any{"owner_tenant_id": owner, "name": name})
	if r.status != http.StatusCreated {
		t.Fatalf("POST /locations: %d %s", r.status, r.body)
	}
	var l Location
	mustUnmarshal(t, r.body, &l)
	return l
}

func TestCreateLocation(t *testing.T) {
	w := newWorld(t, Options{})
	w.createLocation(t, w.p2.ID, "Taken")
	cases := map[string]struct {
		reason string
		body   any
		ct     string
		want   errCode
		loc    *Location // compared without id and version
	}{
		"SeedExample":  {"the reference's example is accepted", strings.Replace(seedPostLocation, "OWNER", w.partner.ID, 1), "", errCode{Status: 201}, &Location{OwnerTenantID: w.partner.ID, Name: "Boston Infrastructure"}},
		"DefaultOwner": {"owner_tenant_id is required by the official schema", map[string]any{"name": "Mine"}, "", errCode{400, 400}, nil},
		"SameNameElsewhere": {"names are unique per owner only", map[string]any{"owner_tenant_id": w.partner.ID, "name": "Taken"}, "", errCode{Status: 201},
			&Location{OwnerTenantID: w.partner.ID, Name: "Taken"}},
		"NameTaken":    {"an owner's location names are unique (1031)", map[string]any{"owner_tenant_id": w.p2.ID, "name": "taken"}, "", errCode{409, codeLocationConflict}, nil},
		"NoName":       {"name is required", map[string]any{"owner_tenant_id": w.partner.ID}, "", errCode{400, 400}, nil},
		"BadOwner":     {"owner_tenant_id is a UUID", map[string]any{"owner_tenant_id": "x", "name": "n"}, "", errCode{400, 400}, nil},
		"UnknownField": {"unknown fields are refused", map[string]any{"name": "n", "region": "eu"}, "", errCode{400, 400}, nil},
		"Outside":      {"the root is outside the caller's subtree", map[string]any{"owner_tenant_id": w.root.ID, "name": "n"}, "", errCode{403, codeAccessDenied}, nil},
		"NoTenant":     {"the owner must exist", map[string]any{"owner_tenant_id": "00000000-0000-4000-8000-000000000000", "name": "n"}, "", errCode{404, codeTenantNotFound}, nil},
		"ContentType":  {"the body must be JSON", map[string]any{"name": "n"}, "text/plain", errCode{415, 415}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			r := w.env.api.doCT(http.MethodPost, "/locations", tc.body, ct)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.loc == nil {
				return
			}
			var got Location
			mustUnmarshal(t, r.body, &got)
			want := *tc.loc
			want.ID, want.Version = got.ID, got.Version
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
			stored, ok := w.env.srv.Location(got.ID)
			if diff := cmp.Diff(want, stored); !ok || diff != "" {
				t.Errorf("%s: store -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestReadLocations(t *testing.T) {
	w := newWorld(t, Options{})
	own := w.createLocation(t, w.partner.ID, "Partner site")
	other := w.createLocation(t, w.p2.ID, "Other site")
	id, secret := w.env.api.createClient(w.partner.ID)
	partnerAPI := w.env.as(id, secret)
	def := Location{ID: DefaultLocationID, OwnerTenantID: w.root.ID, PlatformOwned: true, Name: "Default location", Readonly: true}
	stored, _ := w.env.srv.Location(DefaultLocationID)
	def.Version = stored.Version
	cases := map[string]struct {
		reason string
		api    *apiCaller
		path   string
		want   errCode
		body   any
	}{
		"Platform": {"the platform location is visible and read-only below the root", nil, "/locations/" + DefaultLocationID, errCode{Status: 200}, def},
		"Own":      {"a location of the subtree is writable", partnerAPI, "/locations/" + own.ID, errCode{Status: 200}, own},
		"Sibling":  {"a sibling's location is out of scope", partnerAPI, "/locations/" + other.ID, errCode{403, codeAccessDenied}, nil},
		"Missing":  {"an unknown location is 404", nil, "/locations/00000000-0000-4000-8000-000000000000", errCode{404, 404}, nil},
		"Batch": {"the batch form skips unknown ids", nil, "/locations?uuids=" + DefaultLocationID + ",00000000-0000-4000-8000-000000000000," + own.ID, errCode{Status: 200},
			map[string]any{"items": []Location{def, own}}},
		"BatchNeedsUUIDs": {"uuids is required", nil, "/locations", errCode{400, 400}, nil},
		"BatchSibling":    {"a sibling's location in a batch is 403", partnerAPI, "/locations?uuids=" + other.ID, errCode{403, codeAccessDenied}, nil},
		"TenantLocations": {"a tenant lists the locations it owns", nil, "/tenants/" + w.partner.ID + "/locations", errCode{Status: 200}, map[string]any{"locations": []string{own.ID}}},
		"RootLocations":   {"the root is outside the caller's subtree", nil, "/tenants/" + w.root.ID + "/locations", errCode{403, codeAccessDenied}, nil},
		"Infras": {"a location lists its storages", nil, "/locations/" + DefaultLocationID + "/infra", errCode{Status: 200},
			map[string]any{"infras": sortedIDs(DefaultInfraID, DefaultFilesInfraID)}},
		"InfrasOfSibling": {"a sibling's location is out of scope", partnerAPI, "/locations/" + other.ID + "/infra", errCode{403, codeAccessDenied}, nil},
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

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestUpdateAndDeleteLocation(t *testing.T) {
	cases := map[string]struct {
		reason string
		// do sends the request; l is a fresh location of the partner named "Site".
		do        func(w *world, l Location) response
		want      errCode
		wantName  string // name in the store afterwards; "" means the location is gone
		newerThan bool   // the version must have grown
	}{
		"SeedExample": {
			reason: "the reference's example renames with the current version",
			do: func(w *world, l Location) response {
				return w.env.api.do(http.MethodPut, "/locations/"+l.ID, `{"name": "Boston Infrastructure", "version": `+jsonInt(l.Version)+`}`)
			},
			want: errCode{Status: 200}, wantName: "Boston Infrastructure", newerThan: true,
		},
		"Stale": {
			reason: "a stale version is 409",
			do: func(w *world, l Location) response {
				return w.env.api.do(http.MethodPut, "/locations/"+l.ID, map[string]any{"name": "X", "version": l.Version - 1})
			},
			want: errCode{409, codeVersionMismatch}, wantName: "Site",
		},
		"NoVersion": {
			reason: "version is required",
			do: func(w *world, l Location) response {
				return w.env.api.do(http.MethodPut, "/locations/"+l.ID, map[string]any{"name": "X"})
			},
			want: errCode{400, 400}, wantName: "Site",
		},
		"UnknownField": {
			reason: "unknown fields are refused",
			do: func(w *world, l Location) response {
				return w.env.api.do(http.MethodPut, "/locations/"+l.ID, map[string]any{"name": "X", "version": l.Version, "owner_tenant_id": w.p2.ID})
			},
			want: errCode{400, 400}, wantName: "Site",
		},
		"NameTaken": {
			reason: "renaming onto another location of the owner is a conflict (1031)",
			do: func(w *world, l Location) response {
				w.createLocation(w.env.t.(*testing.T), w.partner.ID, "Second")
				return w.env.api.do(http.MethodPut, "/locations/"+l.ID, map[string]any{"name": "Second", "version": l.Version})
			},
			want: errCode{409, codeLocationConflict}, wantName: "Site",
		},
		"PlatformReadOnly": {
			reason: "the platform's location cannot be changed from below the root",
			do: func(w *world, l Location) response {
				d, _ := w.env.srv.Location(DefaultLocationID)
				return w.env.api.do(http.MethodPut, "/locations/"+DefaultLocationID, map[string]any{"name": "Mine", "version": d.Version})
			},
			want: errCode{403, codeAccessDenied}, wantName: "Site",
		},
		"Delete": {
			reason: "delete with the current version",
			do: func(w *world, l Location) response {
				return w.env.api.do(http.MethodDelete, "/locations/"+l.ID+"?version="+jsonInt(l.Version), nil)
			},
			want: errCode{Status: 204},
		},
		"DeleteStale": {
			reason: "delete with a stale version is 409",
			do: func(w *world, l Location) response {
				return w.env.api.do(http.MethodDelete, "/locations/"+l.ID+"?version="+jsonInt(l.Version+1), nil)
			},
			want: errCode{409, codeVersionMismatch}, wantName: "Site",
		},
		"DeleteNoVersion": {
			reason: "delete needs a version",
			do:     func(w *world, l Location) response { return w.env.api.do(http.MethodDelete, "/locations/"+l.ID, nil) },
			want:   errCode{400, 400}, wantName: "Site",
		},
		"DeleteWithInfra": {
			reason: "a location holding storage cannot be deleted (1031)",
			do: func(w *world, l Location) response {
				w.createInfra(w.env.t.(*testing.T), w.partner.ID, l.ID, "backup")
				return w.env.api.do(http.MethodDelete, "/locations/"+l.ID+"?version="+jsonInt(l.Version), nil)
			},
			want: errCode{409, codeLocationConflict}, wantName: "Site",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, Options{})
			w.env.t = t
			l := w.createLocation(t, w.partner.ID, "Site")
			r := tc.do(w, l)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			got, ok := w.env.srv.Location(l.ID)
			if tc.wantName == "" {
				if ok {
					t.Errorf("%s: the location is still stored", tc.reason)
				}
				return
			}
			if !ok || got.Name != tc.wantName {
				t.Fatalf("%s: stored location %+v, want name %q", tc.reason, got, tc.wantName)
			}
			if tc.newerThan != (got.Version > l.Version) {
				t.Errorf("%s: version %d → %d", tc.reason, l.Version, got.Version)
			}
			if r.status == 200 {
				var ans Location
				mustUnmarshal(t, r.body, &ans)
				if diff := cmp.Diff(got, ans); diff != "" {
					t.Errorf("%s: answer and store differ: -store +answer:\n%s", tc.reason, diff)
				}
			}
		})
	}
}
