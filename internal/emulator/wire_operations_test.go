package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tenant-operator/tenant-operator/internal/wire"
)

// This file is the acceptance test "every operation: one refused, one accepted": for every
// operation the emulator serves, one request the official wire schema (internal/wire/schemas)
// refuses must be answered 400 naming the offending field, and one request that matches the schema
// exactly must be accepted with the success status the official document declares.

// wireReq is one request of the table.
type wireReq struct {
	method, path string
	// body is sent as JSON unless it is a string or []byte (sent verbatim); nil sends no body.
	body any
	// ct is the Content-Type of the body; "" means application/json.
	ct string
	// basic authenticates with the bootstrap client's Basic credentials instead of a bearer token
	// (the /idp endpoints).
	basic bool
	// root sends the bearer token of a client of the root tenant instead of the bootstrap client's.
	root bool
}

func (r wireReq) contentType() string {
	if r.body == nil {
		return ""
	}
	if r.ct != "" {
		return r.ct
	}
	return "application/json"
}

func (r wireReq) bytes(t *testing.T) []byte {
	t.Helper()
	switch b := r.body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encoding the body: %v", err)
		}
		return data
	}
}

// wireRow is one operation of the table.
type wireRow struct {
	// op is the operation as the official document names it: "METHOD /template".
	op string
	// refused is a request the official schema refuses; field is the field its violation names.
	refused func(f *wireFixture) wireReq
	field   string
	// noRefusal says why the schema of op can refuse nothing (no parameters, no body); refused is
	// nil then.
	noRefusal string
	// accepted is a request matching the official schema exactly, built on the fixture (it may
	// prepare state of its own); want is the success status the document declares.
	accepted func(t *testing.T, f *wireFixture) wireReq
	want     int
	// check, if set, looks at the accepted request's answer.
	check func(t *testing.T, f *wireFixture, body []byte)
}

// wireFixture is the state the table's requests are built from.
type wireFixture struct {
	*world
	user     User
	clientID string
	location Location
	infra    Infra
	// seq makes unique names for objects rows create for themselves.
	seq int
}

const (
	zeroUUID  = "00000000-0000-0000-0000-000000000000"
	wireStamp = "2024-05-06T07:08:09"
)

func (f *wireFixture) name(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s %d", prefix, f.seq)
}

func (f *wireFixture) login(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%d", prefix, f.seq)
}

// tenantVersion reads a tenant's current version.
func (f *wireFixture) tenantVersion(id string) string {
	return strconv.FormatInt(f.env.api.getTenant(id).Version, 10)
}

// brandedPartner makes a partner with custom branding on.
func (f *wireFixture) brandedPartner(t *testing.T) Tenant {
	t.Helper()
	p := f.env.api.createTenant(f.provider.ID, f.name("Branded"), KindPartner)
	f.enableBrand(t, p.ID)
	return p
}

// deletedTenant makes a customer and deletes it.
func (f *wireFixture) deletedTenant(t *testing.T) Tenant {
	t.Helper()
	c := f.env.api.createTenant(f.partner.ID, f.name("Gone"), KindCustomer)
	f.env.api.disableTenant(c.ID)
	f.mustStatus(t, http.StatusNoContent, http.MethodDelete, "/tenants/"+c.ID+"?version="+f.tenantVersion(c.ID), nil)
	return c
}

// mustStatus sends a set-up request and fails unless it gets want; it returns the answer's body.
func (f *wireFixture) mustStatus(t *testing.T, want int, method, path string, body any) []byte {
	t.Helper()
	r := f.env.api.do(method, path, body)
	if r.status != want {
		t.Fatalf("set-up %s %s: %d %s", method, path, r.status, r.body)
	}
	return r.body
}

// idVersion decodes the id and version of an answer.
func idVersion(t *testing.T, body []byte) (string, int64) {
	t.Helper()
	var v struct {
		ID      string `json:"id"`
		Version int64  `json:"version"`
	}
	mustUnmarshal(t, body, &v)
	return v.ID, v.Version
}

func (f *wireFixture) newClient(t *testing.T) string {
	t.Helper()
	id, _ := f.env.api.createClient(f.partner.ID)
	return id
}

func (f *wireFixture) newLocation(t *testing.T) (string, int64) {
	t.Helper()
	l := f.createLocation(t, f.partner.ID, f.name("Site"))
	return l.ID, l.Version
}

func (f *wireFixture) newInfra(t *testing.T) (string, int64) {
	t.Helper()
	in := f.createInfra(t, f.partner.ID, f.location.ID, "backup")
	return in.ID, in.Version
}

// monthlyReport makes a scheduled report of the customer.
func (f *wireFixture) monthlyReport(t *testing.T) (string, int64) {
	t.Helper()
	body := reportBody(f.customer.ID, func(m map[string]any) {
		m["schedule"] = map[string]any{"type": "monthly", "enabled": true}
		delete(params(m), "period")
	})
	return idVersion(t, f.mustStatus(t, http.StatusOK, http.MethodPost, "/reports", body))
}

// storedReport makes a once report (stored at once: the fixture runs with InstantReports) and
// returns its id and the id of its first stored file.
func (f *wireFixture) storedReport(t *testing.T) (string, string) {
	t.Helper()
	id, _ := idVersion(t, f.mustStatus(t, http.StatusOK, http.MethodPost, "/reports", reportBody(f.customer.ID, nil)))
	var stored struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	mustUnmarshal(t, f.mustStatus(t, http.StatusOK, http.MethodGet, "/reports/"+id+"/stored", nil), &stored)
	if len(stored.Items) == 0 {
		t.Fatalf("report %s has no stored file", id)
	}
	return id, stored.Items[0].ID
}

// quotaVersion reads the quota version of one of a tenant's offering items.
func (f *wireFixture) quotaVersion(t *testing.T, tenantID, name string) int64 {
	t.Helper()
	var list struct {
		Items []struct {
			Name  string `json:"name"`
			Quota struct {
				Version int64 `json:"version"`
			} `json:"quota"`
		} `json:"items"`
	}
	mustUnmarshal(t, f.mustStatus(t, http.StatusOK, http.MethodGet, "/tenants/"+tenantID+"/offering_items?edition=*", nil), &list)
	for _, it := range list.Items {
		if it.Name == name {
			return it.Quota.Version
		}
	}
	t.Fatalf("tenant %s has no offering item %s", tenantID, name)
	return 0
}

// wireGet is a request without body; wireDo one with a body (nil for none).
func wireGet(path string) wireReq { return wireReq{method: http.MethodGet, path: path} }

func wireDo(method, path string, body any) wireReq {
	return wireReq{method: method, path: path, body: body}
}

// upperID turns a lowercase UUID into the upper-case form the official patterns refuse.
func upperID(id string) string { return strings.ToUpper(id) }

func wireRows() []wireRow {
	form := "application/x-www-form-urlencoded"
	return []wireRow{
		// --- OAuth ---
		{
			op: "POST /idp/token",
			refused: func(f *wireFixture) wireReq {
				return wireReq{method: "POST", path: "/idp/token", body: "scope=openid", ct: form, basic: true}
			},
			field: "body.grant_type",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireReq{method: "POST", path: "/idp/token", body: "grant_type=client_credentials", ct: form, basic: true}
			},
			want: http.StatusOK,
		},
		{
			op: "POST /idp/revoke_token",
			refused: func(f *wireFixture) wireReq {
				return wireReq{method: "POST", path: "/idp/revoke_token", body: "token_type_hint=access_token", ct: form, basic: true}
			},
			field: "body.token",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireReq{method: "POST", path: "/idp/revoke_token", body: "token=not-a-token-of-ours&token_type_hint=access_token", ct: form, basic: true}
			},
			want: http.StatusOK,
		},

		// --- Tenants ---
		{
			op: "POST /tenants",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/tenants", map[string]any{"name": "X", "parent_id": f.partner.ID, "kind": "company"})
			},
			field: "body.kind",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/tenants", map[string]any{
					"name": f.name("New customer"), "parent_id": f.partner.ID, "kind": "customer", "enabled": true,
					"customer_id": "c-1", "internal_tag": "tag", "language": "en", "ancestral_access": true,
					"update_lock": map[string]any{"enabled": false},
					"contact": map[string]any{
						"email": "ops@example.com", "firstname": "Ada", "lastname": "Lovelace", "phone": nil,
						"types": []string{"billing", "technical"}, "language": "en", "email_confirmed": nil,
					},
				})
			},
			want: http.StatusCreated,
		},
		{
			op:      "GET /tenants",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants?parent_id=" + f.partner.ID + "&limit=0") },
			field:   "query.limit",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants?parent_id=" + f.partner.ID + "&lod=full&limit=10&updated_since=2024-01-01T00:00:00Z" +
					"&with_contacts=true&with_offering_items=true&with_infra_offering_items=false&expand_offering_items=false" +
					"&include_relative_path=true&allow_deleted=false")
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /tenants/{tenant_id}",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/" + upperID(f.customer.ID)) },
			field:   "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "?embed_path=true&allow_deleted=false")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID, map[string]any{"name": "Renamed"})
			},
			field: "body.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				c := f.env.api.createTenant(f.partner.ID, f.name("To update"), KindCustomer)
				return wireDo("PUT", "/tenants/"+c.ID, map[string]any{
					"version": c.Version, "name": f.name("Updated"), "customer_type": "enterprise", "customer_id": nil,
					"internal_tag": nil, "language": "de", "enabled": true, "brand_id": nil, "ancestral_access": true,
					"contact": map[string]any{"email": "", "types": []string{"legal"}},
				})
			},
			want: http.StatusOK,
		},
		{
			op:      "DELETE /tenants/{tenant_id}",
			refused: func(f *wireFixture) wireReq { return wireDo("DELETE", "/tenants/"+f.customer.ID, nil) },
			field:   "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				c := f.env.api.createTenant(f.partner.ID, f.name("To delete"), KindCustomer)
				v := f.env.api.disableTenant(c.ID).Version
				return wireDo("DELETE", "/tenants/"+c.ID+"?version="+strconv.FormatInt(v, 10), nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "POST /tenants/{tenant_id}/restore",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/tenants/"+f.customer.ID+"/restore?force=perhaps", nil)
			},
			field: "query.force",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/tenants/"+f.deletedTenant(t).ID+"/restore?force=false", nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "GET /tenants/{tenant_id}/children",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.partner.ID + "/children?allow_deleted=perhaps")
			},
			field: "query.allow_deleted",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.partner.ID + "/children?order=name&allow_deleted=true")
			},
			want: http.StatusOK,
		},
		{
			op: "GET /tenants/{tenant_id}/users",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/users?include_grand_children=2")
			},
			field: "query.include_grand_children",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/users?include_grand_children=true&include_hidden=false")
			},
			want: http.StatusOK,
		},
		{
			op:       "GET /tenants/{tenant_id}/pricing",
			refused:  func(f *wireFixture) wireReq { return wireGet("/tenants/" + upperID(f.customer.ID) + "/pricing") },
			field:    "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/tenants/" + f.customer.ID + "/pricing") },
			want:     http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}/pricing",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/pricing", map[string]any{"mode": "free", "version": 1})
			},
			field: "body.mode",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				c := f.env.api.createTenant(f.partner.ID, f.name("Priced"), KindCustomer)
				_, v := idVersion(t, f.mustStatus(t, http.StatusOK, "GET", "/tenants/"+c.ID+"/pricing", nil))
				return wireDo("PUT", "/tenants/"+c.ID+"/pricing", map[string]any{"mode": "production", "currency": "EUR", "version": v})
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /tenants/{tenant_id}/mfa/status",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/" + upperID(f.customer.ID) + "/mfa/status") },
			field:   "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/mfa/status")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}/mfa/status",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/mfa/status", map[string]any{"enabled": "yes"})
			},
			field: "body.enabled",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/mfa/status", map[string]any{"enabled": false})
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}/default_idp",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/default_idp", map[string]any{"version": 1, "idp_id": defaultIDPID})
			},
			field: "body.apply_to_children",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				v := f.env.api.getTenant(f.customer.ID).Version
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/default_idp", map[string]any{"version": v, "idp_id": "22222222-2222-2222-2222-222222222222", "apply_to_children": true})
			},
			want: http.StatusOK,
		},

		// --- Branding ---
		{
			op:      "GET /tenants/{tenant_id}/brand",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/" + f.customer.ID + "/brand?effective=true") },
			field:   "query.effective",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/brand?effective=1")
			},
			want: http.StatusOK,
		},
		{
			op:      "POST /tenants/{tenant_id}/brand",
			refused: func(f *wireFixture) wireReq { return wireDo("POST", "/tenants/"+f.p2.ID+"/brand", nil) },
			field:   "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				p := f.env.api.createTenant(f.provider.ID, f.name("To brand"), KindPartner)
				return wireDo("POST", "/tenants/"+p.ID+"/brand?version="+strconv.FormatInt(p.Version, 10), nil)
			},
			want: http.StatusCreated,
		},
		{
			op: "PUT /tenants/{tenant_id}/brand",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.p2.ID+"/brand?version=1", map[string]any{"smtp_encryption": "STARTTLS"})
			},
			field: "body.smtp_encryption",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				p := f.brandedPartner(t)
				var b struct {
					ID string `json:"id"`
				}
				mustUnmarshal(t, f.mustStatus(t, http.StatusOK, "GET", "/tenants/"+p.ID+"/brand", nil), &b)
				return wireDo("PUT", "/tenants/"+p.ID+"/brand?version="+f.tenantVersion(p.ID), map[string]any{
					"id": b.ID, "company_name": "Wire Inc", "service_name": "Wire Cloud", "color": nil,
					"smtp_encryption": "", "smtp_override": 0, "smtp_port": 587, "white_labeled_agent": true,
					"logotype": nil, "backup_console_url": "https://console.example.com",
				})
			},
			want: http.StatusOK,
		},
		{
			op: "DELETE /tenants/{tenant_id}/brand",
			refused: func(f *wireFixture) wireReq {
				return wireDo("DELETE", "/tenants/"+f.p2.ID+"/brand?version=latest", nil)
			},
			field: "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				p := f.brandedPartner(t)
				return wireDo("DELETE", "/tenants/"+p.ID+"/brand?version="+f.tenantVersion(p.ID), nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "POST /tenants/{tenant_id}/brand/logo",
			refused: func(f *wireFixture) wireReq {
				return wireReq{method: "POST", path: "/tenants/" + f.p2.ID + "/brand/logo", body: tinyPNG, ct: "image/png"}
			},
			field: "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				p := f.brandedPartner(t)
				return wireReq{method: "POST", path: "/tenants/" + p.ID + "/brand/logo?version=" + f.tenantVersion(p.ID), body: tinyPNG, ct: "image/png"}
			},
			want: http.StatusCreated,
		},

		// --- Applications ---
		{
			op:        "GET /applications",
			noRefusal: "the operation has no parameters and no body",
			accepted:  func(t *testing.T, f *wireFixture) wireReq { return wireGet("/applications") },
			want:      http.StatusOK,
		},
		{
			op:       "GET /applications/{application_id}",
			refused:  func(f *wireFixture) wireReq { return wireGet("/applications/" + upperID(CyberProtectionAppID)) },
			field:    "path.application_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/applications/" + CyberProtectionAppID) },
			want:     http.StatusOK,
		},
		{
			op: "POST /applications/{application_id}/bindings/tenants/{tenant_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/applications/"+CyberProtectionAppID+"/bindings/tenants/"+upperID(f.customer.ID), nil)
			},
			field: "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				c := f.env.api.createTenant(f.partner.ID, f.name("To bind"), KindCustomer)
				return wireDo("POST", "/applications/"+FileSyncShareAppID+"/bindings/tenants/"+c.ID, nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "DELETE /applications/{application_id}/bindings/tenants/{tenant_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("DELETE", "/applications/"+upperID(CyberProtectionAppID)+"/bindings/tenants/"+f.customer.ID, nil)
			},
			field: "path.application_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				c := f.env.api.createTenant(f.partner.ID, f.name("To unbind"), KindCustomer)
				return wireDo("DELETE", "/applications/"+DisasterRecoveryAppID+"/bindings/tenants/"+c.ID, nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "GET /tenants/{tenant_id}/applications",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/applications?for_ui=sometimes")
			},
			field: "query.for_ui",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/applications?for_ui=false")
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /tenants/applications",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/applications") },
			field:   "query.tenants",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/applications?tenants=" + f.customer.ID + "," + f.unit.ID)
			},
			want: http.StatusOK,
		},
		{
			op: "GET /applications/{application_id}/settings/tenants/{tenant_id}/{setting_name}",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/applications/" + CyberProtectionAppID + "/settings/tenants/" + upperID(f.customer.ID) + "/retention")
			},
			field: "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				p := "/applications/" + CyberProtectionAppID + "/settings/tenants/" + f.customer.ID + "/read_me"
				f.mustStatus(t, http.StatusOK, "PUT", p, map[string]any{"value": 30})
				return wireGet(p)
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /applications/{application_id}/settings/tenants/{tenant_id}/{setting_name}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/applications/"+CyberProtectionAppID+"/settings/tenants/"+f.customer.ID+"/retention", map[string]any{"value": 1, "inherit": true})
			},
			field: "body.inherit",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("PUT", "/applications/"+CyberProtectionAppID+"/settings/tenants/"+f.customer.ID+"/retention",
					map[string]any{"value": map[string]any{"days": 30}, "lock": false, "exclusive": false})
			},
			want: http.StatusOK,
		},
		{
			op: "DELETE /applications/{application_id}/settings/tenants/{tenant_id}/{setting_name}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("DELETE", "/applications/"+upperID(CyberProtectionAppID)+"/settings/tenants/"+f.customer.ID+"/retention", nil)
			},
			field: "path.application_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				p := "/applications/" + CyberProtectionAppID + "/settings/tenants/" + f.customer.ID + "/delete_me"
				f.mustStatus(t, http.StatusOK, "PUT", p, map[string]any{"value": true})
				return wireDo("DELETE", p, nil)
			},
			want: http.StatusNoContent,
		},

		// --- Offering items ---
		{
			op:      "GET /tenants/{tenant_id}/offering_items",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/" + f.customer.ID + "/offering_items?status=2") },
			field:   "query.status",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/offering_items?edition=*&status=1&type=infra&infra_uuid=" + DefaultInfraID +
					"&usage_names=storage&available_only=false&for_ui=false&include_secondary=false")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}/offering_items",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/offering_items", map[string]any{"offering_items": []map[string]any{
					{"application_id": CyberProtectionAppID, "name": "workstations", "status": true},
				}})
			},
			field: "body.offering_items[0].status",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				v := f.quotaVersion(t, f.customer.ID, "workstations")
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/offering_items", map[string]any{"check_usage": true, "offering_items": []map[string]any{
					{"application_id": CyberProtectionAppID, "name": "workstations", "status": 1, "quota": map[string]any{"value": 10, "overage": nil, "version": v}},
				}})
			},
			want: http.StatusOK,
		},
		{
			op: "GET /tenants/{tenant_id}/offering_items/available_for_child",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + upperID(f.partner.ID) + "/offering_items/available_for_child")
			},
			field: "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.partner.ID + "/offering_items/available_for_child?kind=customer&edition=standard")
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /tenants/offering_items",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/offering_items?limit=5") },
			field:   "query.subtree_root_tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/offering_items?subtree_root_tenant_id=" + f.partner.ID + "&limit=50&editions=standard" +
					"&usage_names=workstations&offering_items=workstations&updated_since=2024-01-01T00:00:00Z&allow_deleted=false")
			},
			want: http.StatusOK,
		},
		{
			op: "GET /tenants/{tenant_id}/edition",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/edition?application_id=" + CyberProtectionAppID)
			},
			field: "query.target_edition",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/edition?target_edition=" + EditionAdvanced + "&application_id=" + CyberProtectionAppID)
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}/edition",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/edition", map[string]any{"target_edition": EditionAdvanced})
			},
			field: "body.application_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				c := f.env.api.createTenant(f.partner.ID, f.name("Edition"), KindCustomer)
				return wireDo("PUT", "/tenants/"+c.ID+"/edition", map[string]any{"target_edition": EditionAdvanced, "application_id": CyberProtectionAppID})
			},
			want: http.StatusOK,
		},
		{
			op: "GET /tenants/{tenant_id}/offering_items/pricing",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + upperID(f.customer.ID) + "/offering_items/pricing")
			},
			field: "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/offering_items/pricing")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/{tenant_id}/offering_items/pricing",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/offering_items/pricing", map[string]any{"items": []map[string]any{
					{"application_id": CyberProtectionAppID, "name": "vms"},
				}})
			},
			field: "body.items[0].price",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("PUT", "/tenants/"+f.customer.ID+"/offering_items/pricing", map[string]any{"items": []map[string]any{
					{"application_id": CyberProtectionAppID, "name": "vms", "price": "12.50", "version": 0},
				}})
			},
			want: http.StatusOK,
		},

		// --- Usages ---
		{
			op:      "GET /tenants/{tenant_id}/usages",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/" + upperID(f.customer.ID) + "/usages") },
			field:   "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/usages?usage_names=workstations,storage&editions=standard")
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /tenants/usages",
			refused: func(f *wireFixture) wireReq { return wireGet("/tenants/usages?tenants=" + upperID(f.customer.ID)) },
			field:   "query.tenants",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/usages?tenants=" + f.customer.ID + "," + f.unit.ID + "&usage_names=workstations&editions=standard")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /tenants/usages",
			refused: func(f *wireFixture) wireReq {
				r := wireDo("PUT", "/tenants/usages", map[string]any{"items": []map[string]any{{"tenant_id": f.customer.ID, "usage_type": "workstations"}}})
				r.root = true
				return r
			},
			field: "body.items[0].usage_value",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				r := wireDo("PUT", "/tenants/usages", map[string]any{"items": []map[string]any{
					{"tenant_id": f.customer.ID, "usage_type": "workstations", "resource_id": "r-1", "usage_value": 3},
					{"tenant_id": f.customer.ID, "offering_item": "storage", "infra_id": DefaultInfraID, "usage_value": 1024},
				}})
				r.root = true
				return r
			},
			want: http.StatusOK,
		},

		// --- Users ---
		{
			op: "POST /users",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/users", map[string]any{"tenant_id": f.customer.ID, "login": "refused", "roles": []string{"admin"}})
			},
			field: "body.roles",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				login := f.login("new-user")
				return wireDo("POST", "/users", map[string]any{
					"tenant_id": f.customer.ID, "login": login, "language": "en", "enabled": true,
					"notifications": []string{"quota"}, "business_types": []string{"buyer"}, "external_id": "ext-" + login,
					"contact": map[string]any{"email": login + "@example.com", "firstname": "New", "lastname": nil},
				})
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /users",
			refused: func(f *wireFixture) wireReq { return wireGet("/users?tenant_id=" + f.customer.ID + "&lod=everything") },
			field:   "query.lod",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/users?subtree_root_tenant_id=" + f.partner.ID + "&lod=full&limit=100&updated_since=2024-01-01T00:00:00Z" +
					"&with_access_policies=true&allow_deleted=false&inside_organization=true&origin_id=o")
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /users/check_login",
			refused: func(f *wireFixture) wireReq { return wireGet("/users/check_login") },
			field:   "query.username",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/users/check_login?username=" + f.login("free"))
			},
			want: http.StatusNoContent,
		},
		{
			op:      "GET /users/{user_id}",
			refused: func(f *wireFixture) wireReq { return wireGet("/users/" + f.user.ID + "?allow_deleted=sometimes") },
			field:   "query.allow_deleted",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/users/" + f.user.ID + "?allow_deleted=true")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /users/{user_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/users/"+f.user.ID, map[string]any{"enabled": true})
			},
			field: "body.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				u := f.env.api.createUser(f.customer.ID, f.login("to-update"))
				return wireDo("PUT", "/users/"+u.ID, map[string]any{
					"version": u.Version, "enabled": true, "language": "fr", "notifications": []string{"reports"},
					"contact": map[string]any{"email": "changed@example.com", "types": []string{"primary"}, "phone": nil},
				})
			},
			want: http.StatusOK,
		},
		{
			op:      "DELETE /users/{user_id}",
			refused: func(f *wireFixture) wireReq { return wireDo("DELETE", "/users/"+f.user.ID+"?version=", nil) },
			field:   "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				u := f.env.api.createUser(f.customer.ID, f.login("to-delete"))
				return wireDo("DELETE", "/users/"+u.ID+"?version="+strconv.FormatInt(u.Version, 10), nil)
			},
			want: http.StatusNoContent,
		},
		{
			op:      "POST /users/{user_id}/restore",
			refused: func(f *wireFixture) wireReq { return wireDo("POST", "/users/"+f.user.ID+"/restore?enable=maybe", nil) },
			field:   "query.enable",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				u := f.env.api.createUser(f.customer.ID, f.login("to-restore"))
				f.mustStatus(t, http.StatusNoContent, "DELETE", "/users/"+u.ID+"?version="+strconv.FormatInt(u.Version, 10), nil)
				return wireDo("POST", "/users/"+u.ID+"/restore?force=false&enable=true", nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "GET /users/{user_id}/access_policies",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/users/" + f.user.ID + "/access_policies?includeUserGroupPolicies=1x")
			},
			field: "query.includeUserGroupPolicies",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/users/" + f.user.ID + "/access_policies?includeUserGroupPolicies=false")
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /users/{user_id}/access_policies",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/users/"+f.user.ID+"/access_policies", map[string]any{"timestamp": wireStamp, "items": []map[string]any{{
					"id": zeroUUID, "version": 0, "created_at": wireStamp, "updated_at": wireStamp, "deleted_at": nil,
					"trustee_id": f.user.ID, "trustee_type": "user", "issuer_id": zeroUUID, "tenant_id": f.customer.ID, "role_id": "god",
				}}})
			},
			field: "body.items[0].role_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("PUT", "/users/"+f.user.ID+"/access_policies", map[string]any{"timestamp": wireStamp, "items": []map[string]any{{
					"id": zeroUUID, "version": 0, "created_at": wireStamp, "updated_at": wireStamp, "deleted_at": nil,
					"trustee_id": f.user.ID, "trustee_type": "user", "issuer_id": zeroUUID, "tenant_id": f.customer.ID, "role_id": "company_admin",
				}}})
			},
			want: http.StatusOK,
			check: func(t *testing.T, f *wireFixture, body []byte) {
				var got struct {
					Items []struct {
						ID       string `json:"id"`
						IssuerID string `json:"issuer_id"`
						RoleID   string `json:"role_id"`
					} `json:"items"`
				}
				mustUnmarshal(t, body, &got)
				if len(got.Items) != 1 || got.Items[0].RoleID != "company_admin" {
					t.Fatalf("policies = %s, want the one company_admin sent", body)
				}
				if p := got.Items[0]; p.ID == zeroUUID || !validUUID(p.ID) || p.IssuerID == zeroUUID {
					t.Errorf("a policy sent with the zero id is new: it must get an id and an issuer; got %s", body)
				}
			},
		},
		{
			op:      "POST /users/{user_id}/password",
			refused: func(f *wireFixture) wireReq { return wireDo("POST", "/users/"+f.user.ID+"/password", map[string]any{}) },
			field:   "body.password",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/users/"+f.user.ID+"/password", map[string]any{"password": "correct horse battery staple"})
			},
			want: http.StatusNoContent,
		},
		{
			op: "POST /users/{user_id}/send-activation-email",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/users/"+upperID(f.user.ID)+"/send-activation-email", nil)
			},
			field: "path.user_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				u := f.env.api.createUser(f.customer.ID, f.login("to-activate"))
				return wireDo("POST", "/users/"+u.ID+"/send-activation-email", nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "PUT /users/{user_id}/mfa/status",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/users/"+f.user.ID+"/mfa/status", map[string]any{"enabled": true, "method": "totp"})
			},
			field: "body.method",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("PUT", "/users/"+f.user.ID+"/mfa/status", map[string]any{"enabled": true})
			},
			want: http.StatusOK,
		},

		// --- API clients ---
		{
			op: "POST /clients",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/clients", map[string]any{"type": "api_client", "tenant_id": f.partner.ID, "token_endpoint_auth_method": "private_key_jwt"})
			},
			field: "body.token_endpoint_auth_method",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/clients", map[string]any{
					"type": "api_client", "tenant_id": f.partner.ID, "token_endpoint_auth_method": "client_secret_post",
					"data": map[string]any{"client_name": "wire"}, "redirect_uris": []string{}, "origin_id": "wire-test",
				})
			},
			want: http.StatusCreated,
		},
		{
			op:      "GET /clients",
			refused: func(f *wireFixture) wireReq { return wireGet("/clients?uuids=" + upperID(f.clientID)) },
			field:   "query.uuids",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/clients?uuids=" + f.clientID + "&allow_deleted=false&origin_id=o")
			},
			want: http.StatusOK,
		},
		{
			op:       "GET /clients/{client_id}",
			refused:  func(f *wireFixture) wireReq { return wireGet("/clients/" + upperID(f.clientID)) },
			field:    "path.client_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/clients/" + f.clientID) },
			want:     http.StatusOK,
		},
		{
			op: "PUT /clients/{client_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/clients/"+f.clientID, map[string]any{"status": "paused"})
			},
			field: "body.status",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("PUT", "/clients/"+f.clientID, map[string]any{
					"data": map[string]any{"client_name": "renamed"}, "status": "enabled", "redirect_uris": []string{"https://example.com/cb"}, "origin_id": "wire",
				})
			},
			want: http.StatusOK,
		},
		{
			op:       "DELETE /clients/{client_id}",
			refused:  func(f *wireFixture) wireReq { return wireDo("DELETE", "/clients/"+upperID(f.clientID), nil) },
			field:    "path.client_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireDo("DELETE", "/clients/"+f.newClient(t), nil) },
			want:     http.StatusNoContent,
		},

		// --- Registration tokens ---
		{
			op: "POST /tenants/{tenant_id}/registration_tokens",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/tenants/"+f.customer.ID+"/registration_tokens", map[string]any{"expires_in": 3600, "scopes": []string{}, "tenant_id": f.customer.ID})
			},
			field: "body.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/tenants/"+f.customer.ID+"/registration_tokens", map[string]any{"expires_in": 3600, "scopes": []string{agentScope(f.customer.ID)}})
			},
			want: http.StatusOK,
		},
		{
			op: "GET /tenants/{tenant_id}/registration_tokens",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/tenants/" + upperID(f.customer.ID) + "/registration_tokens")
			},
			field: "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/tenants/" + f.customer.ID + "/registration_tokens")
			},
			want: http.StatusOK,
		},
		{
			op: "POST /registration_tokens",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/registration_tokens", map[string]any{"expires_in": "1h", "scopes": []string{}})
			},
			field: "body.expires_in",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/registration_tokens", map[string]any{"tenant_id": f.customer.ID, "expires_in": 60, "scopes": []string{agentScope(f.customer.ID)}})
			},
			want: http.StatusCreated,
		},
		{
			op:        "GET /registration_tokens",
			noRefusal: "no parameters and no body",
			accepted:  func(t *testing.T, f *wireFixture) wireReq { return wireGet("/registration_tokens") },
			want:      http.StatusOK,
		},
		{
			op:      "DELETE /registration_tokens/{token_id}",
			refused: func(f *wireFixture) wireReq { return wireDo("DELETE", "/registration_tokens/"+zeroUUID, nil) },
			field:   "path.token_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("DELETE", "/registration_tokens/"+strconv.FormatInt(f.newRegToken(t, f.customer.ID, 3600).ID, 10), nil)
			},
			want: http.StatusNoContent,
		},

		// --- Locations ---
		{
			op:      "POST /locations",
			refused: func(f *wireFixture) wireReq { return wireDo("POST", "/locations", map[string]any{"name": "Nowhere"}) },
			field:   "body.owner_tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/locations", map[string]any{"owner_tenant_id": f.partner.ID, "name": f.name("Location")})
			},
			want: http.StatusCreated,
		},
		{
			op:      "GET /locations",
			refused: func(f *wireFixture) wireReq { return wireGet("/locations") },
			field:   "query.uuids",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/locations?uuids=" + f.location.ID + "," + DefaultLocationID)
			},
			want: http.StatusOK,
		},
		{
			op:       "GET /locations/{location_id}",
			refused:  func(f *wireFixture) wireReq { return wireGet("/locations/" + upperID(f.location.ID)) },
			field:    "path.location_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/locations/" + f.location.ID) },
			want:     http.StatusOK,
		},
		{
			op: "PUT /locations/{location_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/locations/"+f.location.ID, map[string]any{"version": f.location.Version})
			},
			field: "body.name",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, v := f.newLocation(t)
				return wireDo("PUT", "/locations/"+id, map[string]any{"name": f.name("Renamed site"), "version": v})
			},
			want: http.StatusOK,
		},
		{
			op:      "DELETE /locations/{location_id}",
			refused: func(f *wireFixture) wireReq { return wireDo("DELETE", "/locations/"+f.location.ID, nil) },
			field:   "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, v := f.newLocation(t)
				return wireDo("DELETE", "/locations/"+id+"?version="+strconv.FormatInt(v, 10), nil)
			},
			want: http.StatusNoContent,
		},
		{
			op:       "GET /locations/{location_id}/infra",
			refused:  func(f *wireFixture) wireReq { return wireGet("/locations/" + upperID(f.location.ID) + "/infra") },
			field:    "path.location_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/locations/" + f.location.ID + "/infra") },
			want:     http.StatusOK,
		},
		{
			op:       "GET /tenants/{tenant_id}/locations",
			refused:  func(f *wireFixture) wireReq { return wireGet("/tenants/" + upperID(f.partner.ID) + "/locations") },
			field:    "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/tenants/" + f.partner.ID + "/locations") },
			want:     http.StatusOK,
		},

		// --- Infrastructure ---
		{
			op: "POST /infra",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/infra", map[string]any{"owner_tenant_id": f.partner.ID, "name": "S", "url": "acronis+fes://s.example.com:44445", "capabilities": []string{"tape"}})
			},
			field: "body.capabilities[0]",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/infra", map[string]any{
					"owner_tenant_id": f.partner.ID, "location_id": f.location.ID, "name": f.name("Storage"),
					"url": "acronis+fes://s.example.com:44445", "capabilities": []string{"backup", "disaster_recovery"},
					"content_url": "https://browse.example.com/", "content_mobile_url": "https://browse.example.com/m/", "backend_type": nil,
				})
			},
			want: http.StatusCreated,
		},
		{
			op:      "GET /infra",
			refused: func(f *wireFixture) wireReq { return wireGet("/infra") },
			field:   "query.uuids",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/infra?uuids=" + f.infra.ID + "," + DefaultInfraID)
			},
			want: http.StatusOK,
		},
		{
			op:       "GET /infra/{infra_id}",
			refused:  func(f *wireFixture) wireReq { return wireGet("/infra/" + upperID(f.infra.ID)) },
			field:    "path.infra_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/infra/" + f.infra.ID) },
			want:     http.StatusOK,
		},
		{
			op: "PUT /infra/{infra_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/infra/"+f.infra.ID, map[string]any{"name": "No version"})
			},
			field: "body.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, v := f.newInfra(t)
				return wireDo("PUT", "/infra/"+id, map[string]any{
					"version": v, "name": f.name("Renamed storage"), "url": "acronis+fes://t.example.com:44445",
					"capabilities": []string{"backup"}, "backend_type": "azure",
				})
			},
			want: http.StatusOK,
		},
		{
			op:      "DELETE /infra/{infra_id}",
			refused: func(f *wireFixture) wireReq { return wireDo("DELETE", "/infra/"+f.infra.ID+"?version=v1", nil) },
			field:   "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, v := f.newInfra(t)
				return wireDo("DELETE", "/infra/"+id+"?force=false&version="+strconv.FormatInt(v, 10), nil)
			},
			want: http.StatusNoContent,
		},

		// --- Reports ---
		{
			op: "POST /reports",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/reports", reportBody(f.customer.ID, func(m map[string]any) { m["result_action"] = "print" }))
			},
			field: "body.result_action",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/reports", map[string]any{
					"recipients": []string{f.user.ID}, "result_action": "save", "generation_date": "2024-05-06",
					"schedule": map[string]any{"type": "once", "enabled": true},
					"parameters": map[string]any{
						"tenant_id": f.customer.ID, "level": "accounts", "kind": "usage_summary", "formats": []string{"csv", "json_v2_0"},
						"period": map[string]any{"start": "2024-05-01", "end": "2024-05-05"}, "show_skus": true, "hide_zero_usage": false,
					},
				})
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /reports/{report_id}",
			refused: func(f *wireFixture) wireReq { return wireGet("/reports/not-a-report") },
			field:   "path.report_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, _ := f.monthlyReport(t)
				return wireGet("/reports/" + id)
			},
			want: http.StatusOK,
		},
		{
			op: "PUT /reports/{report_id}",
			refused: func(f *wireFixture) wireReq {
				return wireDo("PUT", "/reports/"+zeroUUID, map[string]any{"version": 1, "recipients": []string{}})
			},
			field: "body.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, _ := f.monthlyReport(t)
				return wireDo("PUT", "/reports/"+id, map[string]any{
					"recipients": []string{f.user.ID},
					"parameters": map[string]any{"level": "direct_partners", "kind": "usage_current", "hide_zero_usage": true, "show_skus": false},
					"schedule":   map[string]any{"enabled": false},
				})
			},
			want: http.StatusOK,
		},
		{
			op:      "DELETE /reports/{report_id}",
			refused: func(f *wireFixture) wireReq { return wireDo("DELETE", "/reports/"+zeroUUID, nil) },
			field:   "query.version",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, v := f.monthlyReport(t)
				return wireDo("DELETE", "/reports/"+id+"?version="+strconv.FormatInt(v, 10), nil)
			},
			want: http.StatusNoContent,
		},
		{
			op: "GET /reports/{report_id}/stored",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/reports/" + upperID("ca451758-b48a-45d9-9ae6-8f1059f67619") + "/stored")
			},
			field: "path.report_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, _ := f.storedReport(t)
				return wireGet("/reports/" + id + "/stored")
			},
			want: http.StatusOK,
		},
		{
			op:      "GET /reports/{report_id}/stored/{stored_report_id}",
			refused: func(f *wireFixture) wireReq { return wireGet("/reports/" + zeroUUID + "/stored/latest") },
			field:   "path.stored_report_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				id, sid := f.storedReport(t)
				return wireGet("/reports/" + id + "/stored/" + sid)
			},
			want: http.StatusOK,
		},
		{
			op:       "GET /tenants/{tenant_id}/reports",
			refused:  func(f *wireFixture) wireReq { return wireGet("/tenants/" + upperID(f.customer.ID) + "/reports") },
			field:    "path.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq { return wireGet("/tenants/" + f.customer.ID + "/reports") },
			want:     http.StatusOK,
		},

		// --- Search ---
		{
			op: "GET /search",
			refused: func(f *wireFixture) wireReq {
				return wireGet("/search?tenant=" + f.provider.ID + "&text=Cust&limit=ten")
			},
			field: "query.limit",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/search?tenant=" + f.provider.ID + "&text=Cust&limit=5&allow_deleted=false")
			},
			want: http.StatusOK,
		},
	}
}

// newWireFixture starts an emulator (stored reports appear at once) with the world's tenants, a
// user in the customer, an API client in the partner, and a location and a storage of the partner.
func newWireFixture(t *testing.T) *wireFixture {
	t.Helper()
	w := newWorld(t, Options{InstantReports: true})
	f := &wireFixture{world: w}
	f.user = w.env.api.createUser(w.customer.ID, "wire-user")
	f.clientID = f.newClient(t)
	f.location = w.createLocation(t, w.partner.ID, "Wire site")
	f.infra = w.createInfra(t, w.partner.ID, f.location.ID, "backup")
	return f
}

func TestWireOperations(t *testing.T) {
	f := newWireFixture(t)
	w := f.world
	spec := wire.MustLoad()
	rows := append(wireRows(), ottWireRows()...)

	t.Run("Coverage", func(t *testing.T) {
		served := map[string]string{}
		for _, pattern := range w.env.srv.routes() {
			method, p, _ := strings.Cut(pattern, " ")
			op, _ := spec.Match(method, strings.TrimPrefix(p, "/api/2"))
			if op == nil {
				t.Errorf("served route %q has no official operation", pattern)
				continue
			}
			served[op.String()] = pattern
		}
		inTable := map[string]bool{}
		for _, row := range rows {
			if inTable[row.op] {
				t.Errorf("operation %s has two rows", row.op)
			}
			inTable[row.op] = true
			if _, ok := served[row.op]; !ok {
				t.Errorf("the table has a row for %s, which the emulator does not serve", row.op)
			}
			if (row.refused == nil) == (row.noRefusal == "") {
				t.Errorf("%s: a row needs either a refused request or a noRefusal reason, not both or neither", row.op)
			}
		}
		for op, pattern := range served {
			if !inTable[op] {
				t.Errorf("the emulator serves %s (%q) but the table has no row for it", op, pattern)
			}
		}
		t.Logf("%d operations served, %d rows", len(served), len(rows))
	})

	for _, row := range rows {
		t.Run(row.op, func(t *testing.T) {
			if row.refused != nil {
				t.Run("Refused", func(t *testing.T) {
					rq := row.refused(f)
					if v := localCheck(t, spec, row.op, rq); v == nil || v.Field != row.field {
						t.Fatalf("test bug: the official schema should refuse %s %s naming %s, got %v", rq.method, rq.path, row.field, v)
					}
					status, body := f.send(t, rq)
					if status != http.StatusBadRequest {
						t.Fatalf("a request the schema refuses answered %d, want 400: %s", status, body)
					}
					assertNamesField(t, body, row.field, row.op == "POST /idp/token" || row.op == "POST /idp/revoke_token")
				})
			}
			t.Run("Accepted", func(t *testing.T) {
				rq := row.accepted(t, f)
				if v := localCheck(t, spec, row.op, rq); v != nil {
					t.Fatalf("test bug: the well-formed request %s %s is refused by the official schema: %v", rq.method, rq.path, v)
				}
				status, body := f.send(t, rq)
				if status != row.want {
					t.Fatalf("a well-formed request answered %d, want %d: %s", status, row.want, body)
				}
				if row.check != nil {
					row.check(t, f, body)
				}
			})
		})
	}
}

// localCheck checks a request of the table against the official schema of its operation, as the
// emulator does, and fails the test if the request is not one of that operation.
func localCheck(t *testing.T, spec *wire.Spec, opName string, rq wireReq) *wire.Violation {
	t.Helper()
	u, err := url.Parse(rq.path)
	if err != nil {
		t.Fatalf("test bug: path %q: %v", rq.path, err)
	}
	op, params := spec.Match(rq.method, u.Path)
	if op == nil || op.String() != opName {
		t.Fatalf("test bug: %s %s is not a request of %s (matched %v)", rq.method, rq.path, opName, op)
	}
	body := rq.bytes(t)
	headers := map[string]string{}
	if body != nil {
		headers["Content-Length"] = strconv.Itoa(len(body))
	}
	return op.ValidateRequest(wire.Request{PathParams: params, Query: u.Query(), Header: headers, ContentType: rq.contentType(), Body: body})
}

// assertNamesField checks that a 400 names the field: the vendor's error body with the message
// "invalid request: <field> <reason>" and error.context.field, or for the OAuth endpoints the
// OAuth error body with that message as error_description.
func assertNamesField(t *testing.T, body []byte, field string, oauth bool) {
	t.Helper()
	prefix := "invalid request: " + field + " "
	if oauth {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		mustUnmarshal(t, body, &e)
		if e.Error != "invalid_request" || !strings.HasPrefix(e.Description, prefix) {
			t.Errorf("OAuth error = %s, want invalid_request with a description starting %q", body, prefix)
		}
		return
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
			Context struct {
				Field string `json:"field"`
			} `json:"context"`
		} `json:"error"`
	}
	mustUnmarshal(t, body, &e)
	if !strings.HasPrefix(e.Error.Message, prefix) || e.Error.Context.Field != field {
		t.Errorf("error = %s, want a message starting %q and context.field %q", body, prefix, field)
	}
}

// send sends a request of the table and returns the answer's status and body.
func (f *wireFixture) send(t *testing.T, rq wireReq) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if b := rq.bytes(t); b != nil {
		rd = bytes.NewReader(b)
	}
	hr, err := http.NewRequest(rq.method, f.env.http.URL+"/api/2"+rq.path, rd)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if ct := rq.contentType(); ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	switch {
	case rq.basic:
		hr.SetBasicAuth(f.env.boot.ClientID, f.env.boot.ClientSecret)
	case rq.root:
		hr.Header.Set("Authorization", "Bearer "+f.rootAPI.token)
	default:
		hr.Header.Set("Authorization", "Bearer "+f.env.api.token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// TestWireOpenBodies sends requests the official schema allows although the emulator's own request
// types do not spell them out: extra keys where the document leaves an object open, read-only
// fields a client sends back as it read them, and optional fields left out. Each must be accepted.
func TestWireOpenBodies(t *testing.T) {
	f := newWireFixture(t)
	spec := wire.MustLoad()
	cases := []struct {
		reason string
		req    func(t *testing.T, f *wireFixture) wireReq
		want   int
	}{
		{"access policies: the body and its items are open", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("PUT", "/users/"+f.user.ID+"/access_policies", map[string]any{
				"timestamp": wireStamp, "paging": map[string]any{"cursors": map[string]any{"after": "x"}}, "note": "open",
				"items": []map[string]any{{
					"id": zeroUUID, "version": 0, "created_at": wireStamp, "updated_at": wireStamp, "deleted_at": nil,
					"trustee_id": f.user.ID, "trustee_type": "user", "issuer_id": zeroUUID, "tenant_id": f.customer.ID,
					"role_id": "protection_ro_admin", "resource_server_id": "", "scope": "anything",
				}},
			})
		}, http.StatusOK},
		{"offering items: an item is open and may carry what GET answered", func(t *testing.T, f *wireFixture) wireReq {
			v := f.quotaVersion(t, f.customer.ID, "servers")
			return wireDo("PUT", "/tenants/"+f.customer.ID+"/offering_items", map[string]any{"offering_items": []map[string]any{{
				"application_id": CyberProtectionAppID, "name": "servers", "status": 1, "edition": "standard", "usage_name": "servers",
				"tenant_id": f.customer.ID, "updated_at": wireStamp, "deleted_at": nil, "locked": false, "type": "count",
				"measurement_unit": "quantity", "sku": "SKU-1", "quota": map[string]any{"value": nil, "overage": nil, "version": v},
			}}})
		}, http.StatusOK},
		{"item prices: an item is open", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("PUT", "/tenants/"+f.customer.ID+"/offering_items/pricing", map[string]any{"items": []map[string]any{
				{"application_id": CyberProtectionAppID, "name": "mobiles", "price": "1", "currency": "EUR"},
			}})
		}, http.StatusOK},
		{"reports: parameters and schedule are open on create", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("POST", "/reports", reportBody(f.customer.ID, func(m map[string]any) {
				params(m)["timezone"] = "UTC"
				m["schedule"] = map[string]any{"type": "once", "enabled": true, "day": 1}
			}))
		}, http.StatusOK},
		{"reports: formats may be left out", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("POST", "/reports", reportBody(f.customer.ID, func(m map[string]any) { delete(params(m), "formats") }))
		}, http.StatusOK},
		{"reports: parameters and schedule are open on update (the reference's example sends tenant_id)", func(t *testing.T, f *wireFixture) wireReq {
			id, _ := f.monthlyReport(t)
			return wireDo("PUT", "/reports/"+id, map[string]any{
				"parameters": map[string]any{"tenant_id": f.customer.ID, "level": "accounts", "kind": "usage_current", "formats": []string{"csv"}, "timezone": "UTC"},
				"schedule":   map[string]any{"enabled": true, "type": "monthly", "day": 1},
			})
		}, http.StatusOK},
		{"usage feed: the body and its items are open", func(t *testing.T, f *wireFixture) wireReq {
			r := wireDo("PUT", "/tenants/usages", map[string]any{"source": "wire", "items": []map[string]any{
				{"tenant_id": f.customer.ID, "usage_type": "mobiles", "usage_value": 2, "timestamp": wireStamp},
			}})
			r.root = true
			return r
		}, http.StatusOK},
		{"branding: the body is open and carries the brand's id", func(t *testing.T, f *wireFixture) wireReq {
			p := f.brandedPartner(t)
			return wireDo("PUT", "/tenants/"+p.ID+"/brand?version="+f.tenantVersion(p.ID), map[string]any{
				"id": zeroUUID, "company_name": "Open Inc", "font": "serif",
			})
		}, http.StatusOK},
		{"users: the contact of a new user is open", func(t *testing.T, f *wireFixture) wireReq {
			login := f.login("open-contact")
			return wireDo("POST", "/users", map[string]any{"tenant_id": f.customer.ID, "login": login,
				"contact": map[string]any{"email": login + "@example.com", "department": "IT", "types": []string{"technical"}}})
		}, http.StatusOK},
		{"tenants: update_lock is open on create", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("POST", "/tenants", map[string]any{"name": f.name("Locked"), "parent_id": f.partner.ID, "kind": "customer",
				"update_lock": map[string]any{"enabled": false, "owner_id": f.clientID}})
		}, http.StatusCreated},
		{"tenants: update_lock is open on update", func(t *testing.T, f *wireFixture) wireReq {
			c := f.env.api.createTenant(f.partner.ID, f.name("Relocked"), KindCustomer)
			return wireDo("PUT", "/tenants/"+c.ID, map[string]any{"version": c.Version, "update_lock": map[string]any{"enabled": false, "owner_id": f.clientID}})
		}, http.StatusOK},
		{"infrastructure: location_id may be left out", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("POST", "/infra", map[string]any{"owner_tenant_id": f.partner.ID, "name": f.name("Unplaced"),
				"url": "acronis+fes://u.example.com:44445", "capabilities": []string{"backup"}})
		}, http.StatusCreated},
		{"application settings: value may be left out", func(t *testing.T, f *wireFixture) wireReq {
			return wireDo("PUT", "/applications/"+CyberProtectionAppID+"/settings/tenants/"+f.customer.ID+"/flags_only", map[string]any{"lock": true})
		}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			rq := tc.req(t, f)
			u, _ := url.Parse(rq.path)
			op, _ := spec.Match(rq.method, u.Path)
			if op == nil {
				t.Fatalf("test bug: %s %s is no operation", rq.method, rq.path)
			}
			if v := localCheck(t, spec, op.String(), rq); v != nil {
				t.Fatalf("test bug: the official schema refuses %s %s: %v", rq.method, rq.path, v)
			}
			if status, body := f.send(t, rq); status != tc.want {
				t.Fatalf("a request the official schema allows answered %d, want %d: %s", status, tc.want, body)
			}
		})
	}
}
