package emulator

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// world is the hierarchy the catalog, offering, usage and report tests start from:
// root > Provider > partner > customer > unit, and a second partner beside the first.
type world struct {
	env                                         *testEnv
	root, provider, partner, customer, unit, p2 Tenant
	// rootAPI is a client of the root tenant, which the bootstrap client (in Provider) is not.
	rootAPI *apiCaller
}

func newWorld(t *testing.T, opts Options) *world {
	t.Helper()
	env := startEmulator(t, opts)
	w := &world{env: env}
	w.provider = env.api.getTenant(env.boot.TenantID)
	w.partner = env.api.createTenant(w.provider.ID, "Partner", KindPartner)
	w.customer = env.api.createTenant(w.partner.ID, "Customer", KindCustomer)
	w.unit = env.api.createTenant(w.customer.ID, "Unit", KindUnit)
	w.p2 = env.api.createTenant(w.provider.ID, "Partner 2", KindPartner)
	w.rootAPI = w.rootClient(t)
	w.root = w.rootAPI.getTenant(env.boot.RootTenantID)
	return w
}

// rootClient plants an API client in the root tenant: the API offers no way to make one from
// Provider, and only root clients may feed usage through PUT /tenants/usages.
func (w *world) rootClient(t *testing.T) *apiCaller {
	t.Helper()
	s := w.env.srv
	id, secret := newID(), "root-secret"
	s.mu.Lock()
	s.st.Clients[id] = &clientRecord{
		APIClient: APIClient{
			ClientID: id, Type: "api_client", TenantID: s.st.Bootstrap.RootTenantID, Status: "enabled",
			Data: map[string]any{"client_name": "root"}, TokenEndpointAuthMethod: "client_secret_basic",
			RedirectURIs: []string{}, CreatedAt: s.timestamp(),
		},
		SecretHash: hashSecret(secret),
	}
	s.mu.Unlock()
	return w.env.as(id, secret)
}

// advance moves the clock and takes a new token, since the old one expires after two hours.
func (w *world) advance(d time.Duration) {
	w.env.clock.Advance(d)
	w.env.api = w.env.as(w.env.boot.ClientID, w.env.boot.ClientSecret)
}

// items GETs a tenant's offering items with a query and fails unless the answer is 200.
func (w *world) items(t *testing.T, tenantID, query string) []OfferingItem {
	t.Helper()
	r := w.env.api.do(http.MethodGet, "/tenants/"+tenantID+"/offering_items"+query, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET offering items: %d %s", r.status, r.body)
	}
	var body struct {
		Items []OfferingItem `json:"items"`
	}
	mustUnmarshal(t, r.body, &body)
	return body.Items
}

// pickItem finds an item by name and infrastructure in a list.
func pickItem(t *testing.T, items []OfferingItem, name, infraID string) OfferingItem {
	t.Helper()
	i := slices.IndexFunc(items, func(it OfferingItem) bool { return it.Name == name && it.infraID() == infraID })
	if i < 0 {
		t.Fatalf("no offering item %s (infra %q) in %d items", name, infraID, len(items))
	}
	return items[i]
}

// stored finds a tenant's item in the store.
func storedItem(t *testing.T, s *Server, tenantID, name, infraID string) OfferingItem {
	t.Helper()
	return pickItem(t, s.OfferingItems(tenantID), name, infraID)
}

// itemNames lists the names of the items that are on (status 1).
func onNames(items []OfferingItem) []string {
	var out []string
	for _, it := range items {
		if it.Status == 1 {
			out = append(out, it.Name+"@"+it.infraID())
		}
	}
	slices.Sort(out)
	return out
}

func TestApplications(t *testing.T) {
	w := newWorld(t, Options{})
	wantApps := []Application{
		{ID: CyberProtectionAppID, Name: "Cyber Protection", Type: "backup", APIBaseURL: "/api/1",
			Usages: []string{"workstations", "servers", "vms", "mobiles", "local_backup", "storage"}},
		{ID: FileSyncShareAppID, Name: "File Sync & Share", Type: "files_cloud", APIBaseURL: "/fc/api/v1",
			Usages: []string{"fc_seats", "fc_storage"}},
		{ID: DisasterRecoveryAppID, Name: "Disaster Recovery", Type: "backup", APIBaseURL: "/api/dr/v1",
			Usages: []string{"cloud_servers", "public_ips", "compute_points", "dr_storage"}},
	}
	r := w.env.api.do(http.MethodGet, "/applications", nil)
	var list struct {
		Items []Application `json:"items"`
	}
	mustUnmarshal(t, r.body, &list)
	if diff := cmp.Diff(wantApps, list.Items); diff != "" {
		t.Errorf("GET /applications: -want +got:\n%s", diff)
	}

	cases := map[string]struct {
		reason string
		id     string
		want   errCode
		app    *Application
	}{
		"Known":   {"a catalog application is found by id", FileSyncShareAppID, errCode{Status: 200}, &wantApps[1]},
		"Unknown": {"an unknown application is 404", "00000000-0000-4000-8000-000000000000", errCode{404, 404}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := w.env.api.do(http.MethodGet, "/applications/"+tc.id, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s", tc.reason, diff)
			}
			if tc.app != nil {
				var got Application
				mustUnmarshal(t, r.body, &got)
				if diff := cmp.Diff(*tc.app, got); diff != "" {
					t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestTenantApplications(t *testing.T) {
	w := newWorld(t, Options{})
	all := []string{CyberProtectionAppID, FileSyncShareAppID, DisasterRecoveryAppID}
	cases := map[string]struct {
		reason string
		path   string
		want   errCode
		items  any
	}{
		"Inherited": {"a new tenant has its parent's services", "/tenants/" + w.customer.ID + "/applications", errCode{Status: 200},
			map[string]any{"items": all}},
		"OutsideScope": {"the root is outside Provider's subtree", "/tenants/" + w.root.ID + "/applications", errCode{403, codeAccessDenied}, nil},
		"Missing":      {"an unknown tenant is 404", "/tenants/00000000-0000-4000-8000-000000000000/applications", errCode{404, codeTenantNotFound}, nil},
		"Batch": {"the batch form pairs tenants with their services", "/tenants/applications?tenants=" + w.partner.ID + "," + w.unit.ID, errCode{Status: 200},
			map[string]any{"items": []any{
				map[string]any{"tenant": w.partner.ID, "applications": all},
				map[string]any{"tenant": w.unit.ID, "applications": all},
			}}},
		"BatchNeedsTenants": {"tenants is required", "/tenants/applications", errCode{400, 400}, nil},
		"BatchOutsideScope": {"a tenant outside the subtree is 403", "/tenants/applications?tenants=" + w.root.ID, errCode{403, codeAccessDenied}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := w.env.api.do(http.MethodGet, tc.path, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.items != nil {
				var got any
				mustUnmarshal(t, r.body, &got)
				if diff := cmp.Diff(normalizeJSON(t, tc.items), got); diff != "" {
					t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestApplicationBindings(t *testing.T) {
	cases := map[string]struct {
		reason string
		// setup runs before the request; it may unbind things.
		setup      func(t *testing.T, w *world)
		method     string
		app        func(w *world) string
		tenant     func(w *world) string
		want       errCode
		wantBound  []string // bindings of the target tenant afterwards
		wantOnUnit []string // items on in the unit afterwards (nil: not checked)
	}{
		"UnbindCascades": {
			reason: "turning a service off turns it off for the subtree, items included",
			method: http.MethodDelete, app: func(*world) string { return FileSyncShareAppID },
			tenant: func(w *world) string { return w.partner.ID }, want: errCode{Status: 204},
			wantBound:  []string{CyberProtectionAppID, DisasterRecoveryAppID},
			wantOnUnit: []string{"dr_cloud_servers@", "dr_public_ips@", "dr_storage@" + DefaultInfraID, "local_backup@", "mobiles@", "servers@", "storage@" + DefaultInfraID, "vms@", "workstations@"},
		},
		"BindAgain": {
			reason: "turning a service back on gives the items the parent offers",
			setup: func(t *testing.T, w *world) {
				if r := w.env.api.do(http.MethodDelete, "/applications/"+FileSyncShareAppID+"/bindings/tenants/"+w.customer.ID, nil); r.status != 204 {
					t.Fatalf("unbind: %d %s", r.status, r.body)
				}
			},
			method: http.MethodPost, app: func(*world) string { return FileSyncShareAppID },
			tenant: func(w *world) string { return w.customer.ID }, want: errCode{Status: 204},
			wantBound: []string{CyberProtectionAppID, FileSyncShareAppID, DisasterRecoveryAppID},
		},
		"ParentLacksService": {
			reason: "a service the parent does not have cannot be turned on (1026)",
			setup: func(t *testing.T, w *world) {
				if r := w.env.api.do(http.MethodDelete, "/applications/"+DisasterRecoveryAppID+"/bindings/tenants/"+w.partner.ID, nil); r.status != 204 {
					t.Fatalf("unbind: %d %s", r.status, r.body)
				}
			},
			method: http.MethodPost, app: func(*world) string { return DisasterRecoveryAppID },
			tenant: func(w *world) string { return w.customer.ID }, want: errCode{400, codeCannotEnableService},
			wantBound: []string{CyberProtectionAppID, FileSyncShareAppID},
		},
		"UnknownApplication": {
			reason: "an unknown application is 404",
			method: http.MethodPost, app: func(*world) string { return "00000000-0000-4000-8000-000000000000" },
			tenant: func(w *world) string { return w.customer.ID }, want: errCode{404, 404},
			wantBound: []string{CyberProtectionAppID, FileSyncShareAppID, DisasterRecoveryAppID},
		},
		"OutsideScope": {
			reason: "the root is outside the caller's subtree",
			method: http.MethodDelete, app: func(*world) string { return CyberProtectionAppID },
			tenant: func(w *world) string { return w.root.ID }, want: errCode{403, codeAccessDenied},
			wantBound: []string{CyberProtectionAppID, FileSyncShareAppID, DisasterRecoveryAppID},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, Options{})
			if tc.setup != nil {
				tc.setup(t, w)
			}
			r := w.env.api.do(tc.method, "/applications/"+tc.app(w)+"/bindings/tenants/"+tc.tenant(w), nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if diff := cmp.Diff(tc.wantBound, w.env.srv.Bindings(tc.tenant(w))); diff != "" {
				t.Errorf("%s: bindings -want +got:\n%s", tc.reason, diff)
			}
			if tc.wantOnUnit != nil {
				if diff := cmp.Diff(tc.wantOnUnit, onNames(w.env.srv.OfferingItems(w.unit.ID))); diff != "" {
					t.Errorf("%s: unit items on -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

// normalizeJSON turns a Go value into what json.Unmarshal into an `any` gives, so expectations
// written with Go types compare with decoded answers.
func normalizeJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding: %v", err)
	}
	var out any
	mustUnmarshal(t, data, &out)
	return out
}

func TestApplicationSettings(t *testing.T) {
	w := newWorld(t, Options{})
	path := func(tenantID, name string) string {
		return "/applications/" + CyberProtectionAppID + "/settings/tenants/" + tenantID + "/" + name
	}
	type step struct {
		reason string
		method string
		path   string
		body   any
		ct     string
		want   errCode
		// got is the setting answered, checked when set.
		got *AppSetting
	}
	own := func(from, name, value string, lock, exclusive bool) *AppSetting {
		return &AppSetting{Name: name, ApplicationID: CyberProtectionAppID,
			Own:       &OwnSetting{Value: json.RawMessage(value), Lock: lock, Exclusive: exclusive},
			Effective: &EffectiveSetting{Owner: SettingOwner{Type: "tenant", ID: from}, Value: json.RawMessage(value), Lock: lock}}
	}
	inherited := func(from, name, value string) *AppSetting {
		return &AppSetting{Name: name, ApplicationID: CyberProtectionAppID,
			Effective: &EffectiveSetting{Owner: SettingOwner{Type: "tenant", ID: from}, Value: json.RawMessage(value)}}
	}
	steps := []step{
		{reason: "nothing is set anywhere yet", method: http.MethodGet, path: path(w.customer.ID, "retention"), want: errCode{404, 404}},
		{reason: "a partner sets a value", method: http.MethodPut, path: path(w.partner.ID, "retention"), body: map[string]any{"value": 30},
			want: errCode{Status: 200}, got: own(w.partner.ID, "retention", `30`, false, false)},
		{reason: "its customer inherits it", method: http.MethodGet, path: path(w.customer.ID, "retention"),
			want: errCode{Status: 200}, got: inherited(w.partner.ID, "retention", `30`)},
		{reason: "the reference's example overrides it", method: http.MethodPut, path: path(w.customer.ID, "retention"), body: "{\n\"value\": \"qwerty\",\n\"lock\": false\n}",
			want: errCode{Status: 200}, got: own(w.customer.ID, "retention", `"qwerty"`, false, false)},
		{reason: "the unit inherits the nearest value", method: http.MethodGet, path: path(w.unit.ID, "retention"),
			want: errCode{Status: 200}, got: inherited(w.customer.ID, "retention", `"qwerty"`)},
		{reason: "deleting the own value brings the inherited one back", method: http.MethodDelete, path: path(w.customer.ID, "retention"), want: errCode{Status: 204}},
		{reason: "inherited again", method: http.MethodGet, path: path(w.customer.ID, "retention"),
			want: errCode{Status: 200}, got: inherited(w.partner.ID, "retention", `30`)},
		{reason: "there is no own value left to delete", method: http.MethodDelete, path: path(w.customer.ID, "retention"), want: errCode{404, 404}},
		{reason: "a partner locks a setting", method: http.MethodPut, path: path(w.partner.ID, "encryption"), body: map[string]any{"value": true, "lock": true},
			want: errCode{Status: 200}, got: own(w.partner.ID, "encryption", `true`, true, false)},
		{reason: "a locked setting cannot be overridden below", method: http.MethodPut, path: path(w.unit.ID, "encryption"), body: map[string]any{"value": false}, want: errCode{403, codeAccessDenied}},
		{reason: "an exclusive value stays with its tenant", method: http.MethodPut, path: path(w.p2.ID, "region"), body: map[string]any{"value": "eu", "exclusive": true},
			want: errCode{Status: 200}, got: own(w.p2.ID, "region", `"eu"`, false, true)},
		{reason: "so children of an exclusive value inherit from above it", method: http.MethodGet, path: path(w.env.api.createTenant(w.p2.ID, "P2 customer", KindCustomer).ID, "region"), want: errCode{404, 404}},
		{reason: "value is optional in the official body: a new setting without one holds null", method: http.MethodPut, path: path(w.partner.ID, "flags"), body: map[string]any{"lock": true},
			want: errCode{Status: 200}, got: own(w.partner.ID, "flags", `null`, true, false)},
		{reason: "unknown fields are refused", method: http.MethodPut, path: path(w.partner.ID, "x"), body: map[string]any{"value": 1, "scope": "all"}, want: errCode{400, 400}},
		{reason: "the body must be JSON", method: http.MethodPut, path: path(w.partner.ID, "x"), body: map[string]any{"value": 1}, ct: "text/plain", want: errCode{415, 415}},
		{reason: "the application must exist", method: http.MethodGet, path: "/applications/00000000-0000-4000-8000-000000000000/settings/tenants/" + w.partner.ID + "/x", want: errCode{404, 404}},
		{reason: "the root is outside the caller's subtree", method: http.MethodPut, path: path(w.root.ID, "x"), body: map[string]any{"value": 1}, want: errCode{403, codeAccessDenied}},
	}
	for i, st := range steps {
		ct := st.ct
		if ct == "" {
			ct = "application/json"
		}
		r := w.env.api.doCT(st.method, st.path, st.body, ct)
		if diff := cmp.Diff(st.want, r.code(t)); diff != "" {
			t.Fatalf("step %d, %s: -want +got:\n%s\n%s", i, st.reason, diff, r.body)
		}
		if st.got != nil {
			var got AppSetting
			mustUnmarshal(t, r.body, &got)
			if diff := cmp.Diff(*st.got, got); diff != "" {
				t.Errorf("step %d, %s: -want +got:\n%s", i, st.reason, diff)
			}
		}
	}
}
