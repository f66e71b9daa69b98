package emulator

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// emuAdmin sends a request to the emulator's admin API with an explicit content type.
func emuAdmin(t *testing.T, env *testEnv, method, path, contentType, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, env.http.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// usageSummary is what tests compare of a usage entry.
type usageSummary struct {
	Name          string
	Value         float64
	AbsoluteValue float64
	Status        int
}

func (w *world) usages(t *testing.T, a *apiCaller, path string) []usageSummary {
	t.Helper()
	r := a.do(http.MethodGet, path, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var usages []Usage
	if strings.HasPrefix(path, "/tenants/usages") {
		// The batch form groups the usages by tenant.
		var body struct {
			Items []TenantUsages `json:"items"`
		}
		mustUnmarshal(t, r.body, &body)
		for _, tu := range body.Items {
			for _, u := range tu.Usages {
				if u.TenantUUID != tu.Tenant {
					t.Errorf("GET %s: a usage of tenant %s is listed under %s", path, u.TenantUUID, tu.Tenant)
				}
			}
			usages = append(usages, tu.Usages...)
		}
	} else {
		var body struct {
			Items []Usage `json:"items"`
		}
		mustUnmarshal(t, r.body, &body)
		usages = body.Items
	}
	var out []usageSummary
	for _, u := range usages {
		// tenant_id is the tenant's numeric id, tenant_uuid its UUID.
		if n, ok := w.env.srv.TenantNumber(u.TenantUUID); !ok || n != u.TenantID || n <= 0 {
			t.Errorf("GET %s: usage %s has tenant_id %d, want the numeric id %d of tenant %s", path, u.Name, u.TenantID, n, u.TenantUUID)
		}
		out = append(out, usageSummary{Name: u.TenantUUID[:4] + "/" + u.Name, Value: u.Value, AbsoluteValue: u.AbsoluteValue, Status: u.OfferingItem.Status})
	}
	return out
}

func TestUsages(t *testing.T) {
	w := newWorld(t, Options{})
	w.env.srv.SetUsage(w.unit.ID, "workstations", "", 2)
	w.env.srv.SetUsage(w.customer.ID, "workstations", "", 3)
	w.env.srv.SetUsage(w.p2.ID, "workstations", "", 100)
	w.env.srv.SetUsage(w.customer.ID, "storage", DefaultInfraID, 1000)
	w.env.srv.SetUsage(w.customer.ID, "servers", "ignored-for-count-usage", 1)
	short := func(id string) string { return id[:4] + "/" }
	cases := map[string]struct {
		reason string
		path   string
		want   []usageSummary
	}{
		"Customer": {"a customer's usage counts its units", "/tenants/" + w.customer.ID + "/usages?usage_names=workstations,servers,storage&editions=standard",
			[]usageSummary{
				{short(w.customer.ID) + "workstations", 5, 5, 1},
				{short(w.customer.ID) + "servers", 1, 1, 1},
				{short(w.customer.ID) + "storage", 1000, 1000, 1},
			}},
		"PartnerByItem": {"value counts only sub-tenants on the same item; absolute_value counts all", "/tenants/" + w.partner.ID + "/usages?usage_names=workstations&editions=*",
			[]usageSummary{
				{short(w.partner.ID) + "workstations", 5, 5, 1},
				{short(w.partner.ID) + "adv_workstations", 0, 5, 1},
			}},
		"Batch": {"the batch form lists several tenants", "/tenants/usages?tenants=" + w.unit.ID + "," + w.p2.ID + "&usage_names=workstations&editions=standard",
			[]usageSummary{
				{short(w.unit.ID) + "workstations", 2, 2, 1},
				{short(w.p2.ID) + "workstations", 100, 100, 1},
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, w.usages(t, w.env.api, tc.path)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
	t.Run("OffItemHasNoValue", func(t *testing.T) {
		if r := w.putItems(w.customer.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "workstations", "status": 0}}}); r.status != 200 {
			t.Fatalf("turn off: %d %s", r.status, r.body)
		}
		want := []usageSummary{{short(w.customer.ID) + "workstations", 0, 5, 0}}
		if diff := cmp.Diff(want, w.usages(t, w.env.api, "/tenants/"+w.customer.ID+"/usages?usage_names=workstations&editions=standard")); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
	})
	t.Run("Scope", func(t *testing.T) {
		for _, path := range []string{"/tenants/" + w.root.ID + "/usages", "/tenants/usages?tenants=" + w.root.ID} {
			if diff := cmp.Diff(errCode{403, codeAccessDenied}, w.env.api.do(http.MethodGet, path, nil).code(t)); diff != "" {
				t.Errorf("GET %s: -want +got:\n%s", path, diff)
			}
		}
	})
}

func TestAdminUsages(t *testing.T) {
	w := newWorld(t, Options{})
	cases := map[string]struct {
		reason string
		method string
		ct     string
		body   string
		want   errCode
		// storage is the customer's storage usage afterwards.
		storage float64
	}{
		"Set": {"usage of an infra item is set per infrastructure", http.MethodPut, "application/json",
			`{"tenant_id":"` + w.customer.ID + `","usage_name":"storage","infra_id":"` + DefaultInfraID + `","value":4096}`, errCode{Status: 204}, 4096},
		"NoTenant": {"an unknown tenant is 404", http.MethodPut, "application/json",
			`{"tenant_id":"00000000-0000-4000-8000-000000000000","usage_name":"vms","value":1}`, errCode{404, 404}, 0},
		"UnknownUsage": {"the usage name must be in the catalog", http.MethodPut, "application/json",
			`{"tenant_id":"` + w.customer.ID + `","usage_name":"tapes","value":1}`, errCode{400, 400}, 0},
		"InfraRequired": {"infra usages need infra_id", http.MethodPut, "application/json",
			`{"tenant_id":"` + w.customer.ID + `","usage_name":"storage","value":1}`, errCode{400, 400}, 0},
		"InfraUnknown": {"the infrastructure must exist", http.MethodPut, "application/json",
			`{"tenant_id":"` + w.customer.ID + `","usage_name":"storage","infra_id":"00000000-0000-4000-8000-000000000000","value":1}`, errCode{404, 404}, 0},
		"Negative":     {"usage is not negative", http.MethodPut, "application/json", `{"tenant_id":"` + w.customer.ID + `","usage_name":"vms","value":-1}`, errCode{400, 400}, 0},
		"MissingValue": {"value is required", http.MethodPut, "application/json", `{"tenant_id":"` + w.customer.ID + `","usage_name":"vms"}`, errCode{400, 400}, 0},
		"UnknownField": {"unknown fields are refused", http.MethodPut, "application/json", `{"tenant_id":"` + w.customer.ID + `","usage_name":"vms","value":1,"unit":"x"}`, errCode{400, 400}, 0},
		"ContentType":  {"the body must be JSON", http.MethodPut, "text/plain", `{}`, errCode{415, 415}, 0},
		"Method":       {"only PUT", http.MethodGet, "", ``, errCode{405, 405}, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w.env.srv.SetUsage(w.customer.ID, "storage", DefaultInfraID, 0)
			r := emuAdmin(t, w.env, tc.method, "/_emulator/usages", tc.ct, tc.body)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			w.env.srv.mu.Lock()
			got := w.env.srv.ownUsage(w.customer.ID, "storage", DefaultInfraID)
			w.env.srv.mu.Unlock()
			if got != tc.storage {
				t.Errorf("%s: storage usage = %v, want %v", tc.reason, got, tc.storage)
			}
		})
	}
}

func TestReportUsagesFeed(t *testing.T) {
	w := newWorld(t, Options{})
	t.Run("OnlyRootClients", func(t *testing.T) {
		r := w.env.api.do(http.MethodPut, "/tenants/usages", map[string]any{"items": []any{}})
		if diff := cmp.Diff(errCode{403, codeAccessDenied}, r.code(t)); diff != "" {
			t.Errorf("a Provider client may not report usage: -want +got:\n%s", diff)
		}
	})
	t.Run("PerResource", func(t *testing.T) {
		body := map[string]any{"items": []map[string]any{
			{"tenant_id": w.customer.ID, "resource_id": "r1", "usage_type": "vms", "usage_value": 2},
			{"tenant_id": w.customer.ID, "resource_id": "r2", "offering_item": "vms", "usage_value": 3},
			{"tenant_id": w.customer.ID, "offering_item": "storage", "infra_id": DefaultInfraID, "usage_value": 10},
			{"tenant_id": w.customer.ID, "usage_type": "tapes", "usage_value": 1},
			{"tenant_id": "00000000-0000-4000-8000-000000000000", "usage_type": "vms", "usage_value": 1},
			{"tenant_id": w.customer.ID, "usage_type": "vms", "usage_value": -1},
		}}
		r := w.rootAPI.do(http.MethodPut, "/tenants/usages", body)
		if r.status != 200 {
			t.Fatalf("PUT /tenants/usages: %d %s", r.status, r.body)
		}
		var got struct {
			Items []UsageReportResult `json:"items"`
		}
		mustUnmarshal(t, r.body, &got)
		var codes []int
		for _, it := range got.Items {
			c := 0
			if it.Error != nil {
				c = it.Error.Error.Code
			}
			codes = append(codes, c)
		}
		if diff := cmp.Diff([]int{0, 0, 0, 400, codeTenantNotFound, 400}, codes); diff != "" {
			t.Errorf("per-item errors: -want +got:\n%s", diff)
		}
		want := []usageSummary{{w.customer.ID[:4] + "/vms", 5, 5, 1}, {w.customer.ID[:4] + "/storage", 10, 10, 1}}
		if diff := cmp.Diff(want, w.usages(t, w.env.api, "/tenants/"+w.customer.ID+"/usages?usage_names=vms,storage&editions=standard")); diff != "" {
			t.Errorf("resources add up: -want +got:\n%s", diff)
		}
	})
}
