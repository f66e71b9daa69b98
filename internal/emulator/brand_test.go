package emulator

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedPutBrand is the request example of PUT /tenants/{tenant_id}/brand in seed 001.
const seedPutBrand = `{
"smtp_encryption": "TLS",
"mobile_app_android_download_url": "www.mobile.com/download",
"smtp_user": "smtpuser",
"reg_server_url": "https://rs.custom-cloud.acronis.com",
"platform_terms_url": "terms.acronis.com",
"owns_custom_legal_docs": false,
"company_name": "mycompany",
"smtp_port": 465,
"upsell_url": "www.partner.com/buy",
"smtp_server": "smtp.mycompany.com",
"privacy_policy_url": "https://www.acronis.com/company/privacy.html",
"user_guide_url": "guide.acronis.com",
"color": "FFFFFF",
"service_name": "myservice",
"help_url": "help.acronis.com",
"knowledgebase_url": "kb.acronis.com/errorcode/",
"logotype": "2f8ad2e2-28f2-11e7-aad1-5ffe2ad47151",
"home_url": "www.baas.com",
"color_scheme": "default",
"smtp_reply_address": "noreply@mycompany.com",
"support_phone": "+1 1111 1111111",
"white_labeled_agent": false,
"support_url": "support.acronis.com",
"agent_gateway_url": "https://agents.custom-cloud.acronis.com",
"smtp_password": "**********",
"mobile_app_ios_download_url": "www.mobile.com/download",
"terms_url": "terms.acronis.com",
"account_server_url": "mc-cloud.acronis.com",
"smtp_override": 1,
"router_url": "cloud.acronis.com"
}`

var tinyPNG = append([]byte("\x89PNG\r\n\x1a\n"), []byte("\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")...)

func (w *world) brandPath(tenantID, suffix string) string {
	return "/tenants/" + tenantID + "/brand" + suffix + "?version=" + jsonInt(w.env.api.getTenant(tenantID).Version)
}

func (w *world) enableBrand(t *testing.T, tenantID string) {
	t.Helper()
	if r := w.env.api.do(http.MethodPost, w.brandPath(tenantID, ""), nil); r.status != http.StatusCreated {
		t.Fatalf("enable branding: %d %s", r.status, r.body)
	}
}

func TestBrandEnableDisable(t *testing.T) {
	cases := map[string]struct {
		reason string
		do     func(t *testing.T, w *world) response
		want   errCode
		// enabled is the partner's brand_enabled afterwards.
		enabled bool
	}{
		"Enable": {"a partner's branding is enabled with the tenant's version", func(t *testing.T, w *world) response {
			return w.env.api.do(http.MethodPost, w.brandPath(w.partner.ID, ""), nil)
		}, errCode{Status: 201}, true},
		"Folder": {"folders can be branded", func(t *testing.T, w *world) response {
			f := w.env.api.createTenant(w.partner.ID, "Folder", KindFolder)
			r := w.env.api.do(http.MethodPost, w.brandPath(f.ID, ""), nil)
			if !w.env.api.getTenant(f.ID).BrandEnabled {
				t.Errorf("folder brand_enabled stayed false")
			}
			return r
		}, errCode{Status: 201}, false},
		"Customer": {"customers cannot be branded", func(t *testing.T, w *world) response {
			return w.env.api.do(http.MethodPost, w.brandPath(w.customer.ID, ""), nil)
		}, errCode{400, 400}, false},
		"Stale": {"a stale tenant version is 409", func(t *testing.T, w *world) response {
			return w.env.api.do(http.MethodPost, "/tenants/"+w.partner.ID+"/brand?version="+jsonInt(w.partner.Version-1), nil)
		}, errCode{409, codeVersionMismatch}, false},
		"NoVersion": {"version is required", func(t *testing.T, w *world) response {
			return w.env.api.do(http.MethodPost, "/tenants/"+w.partner.ID+"/brand", nil)
		}, errCode{400, 400}, false},
		"Twice": {"enabling twice is a conflict", func(t *testing.T, w *world) response {
			w.enableBrand(t, w.partner.ID)
			return w.env.api.do(http.MethodPost, w.brandPath(w.partner.ID, ""), nil)
		}, errCode{409, 409}, true},
		"Outside": {"the root is outside the caller's subtree", func(t *testing.T, w *world) response {
			return w.env.api.do(http.MethodPost, "/tenants/"+w.root.ID+"/brand?version=1", nil)
		}, errCode{403, codeAccessDenied}, false},
		"Disable": {"disabling needs the tenant's current version", func(t *testing.T, w *world) response {
			w.enableBrand(t, w.partner.ID)
			return w.env.api.do(http.MethodDelete, w.brandPath(w.partner.ID, ""), nil)
		}, errCode{Status: 204}, false},
		"DisableOff": {"disabling what is not enabled is 400", func(t *testing.T, w *world) response {
			return w.env.api.do(http.MethodDelete, w.brandPath(w.partner.ID, ""), nil)
		}, errCode{400, 400}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, Options{})
			before := w.env.api.getTenant(w.partner.ID)
			r := tc.do(t, w)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			after := w.env.api.getTenant(w.partner.ID)
			if r.status == http.StatusCreated && name != "Folder" {
				// The official document answers a brand write with the tenant object.
				var got Tenant
				mustUnmarshal(t, r.body, &got)
				if got.ID != after.ID || got.Version != after.Version || !got.BrandEnabled || got.BrandUUID == nil || got.Kind != KindPartner {
					t.Errorf("%s: the answer is not the tenant as it now is: %s", tc.reason, r.body)
				}
			}
			if r.status == http.StatusNoContent && len(r.body) != 0 {
				t.Errorf("%s: a 204 carries no body on the wire, got %s", tc.reason, r.body)
			}
			if after.BrandEnabled != tc.enabled {
				t.Errorf("%s: brand_enabled = %v, want %v", tc.reason, after.BrandEnabled, tc.enabled)
			}
			b, ok := w.env.srv.Brand(w.partner.ID)
			if tc.enabled {
				if !ok || !b.Enabled || after.BrandUUID == nil || *after.BrandUUID != b.ID || after.BrandID == nil || b.Version != after.Version {
					t.Errorf("%s: tenant %+v does not point at brand %+v", tc.reason, after, b)
				}
			}
			if r.status < 300 && after.Version <= before.Version && name != "Folder" {
				t.Errorf("%s: the tenant's version did not move", tc.reason)
			}
		})
	}
}

func TestBrandOptions(t *testing.T) {
	w := newWorld(t, Options{})
	cases := map[string]struct {
		reason string
		do     func(t *testing.T) response
		want   errCode
	}{
		"NotEnabled": {"options need branding on", func(t *testing.T) response {
			return w.env.api.do(http.MethodPut, w.brandPath(w.partner.ID, ""), map[string]any{"color": "000000"})
		}, errCode{400, 400}},
		"SeedExample": {"the reference's example is accepted", func(t *testing.T) response {
			w.enableBrand(t, w.partner.ID)
			return w.env.api.do(http.MethodPut, w.brandPath(w.partner.ID, ""), seedPutBrand)
		}, errCode{Status: 200}},
		"Password": {"the SMTP password is stored, never shown", func(t *testing.T) response {
			return w.env.api.do(http.MethodPut, w.brandPath(w.partner.ID, ""), map[string]any{"smtp_password": "s3cret"})
		}, errCode{Status: 200}},
		"UnknownOption": {"the official body is open: unknown options are ignored", func(t *testing.T) response {
			return w.env.api.do(http.MethodPut, w.brandPath(w.partner.ID, ""), map[string]any{"font": "Comic Sans"})
		}, errCode{Status: 200}},
		"WrongType": {"options have JSON kinds", func(t *testing.T) response {
			return w.env.api.do(http.MethodPut, w.brandPath(w.partner.ID, ""), map[string]any{"smtp_port": "465"})
		}, errCode{400, 400}},
		"Stale": {"a stale version is 409", func(t *testing.T) response {
			return w.env.api.do(http.MethodPut, "/tenants/"+w.partner.ID+"/brand?version=1", map[string]any{"color": "000000"})
		}, errCode{409, codeVersionMismatch}},
		"ContentType": {"the body must be JSON", func(t *testing.T) response {
			return w.env.api.doCT(http.MethodPut, w.brandPath(w.partner.ID, ""), `{}`, "text/plain")
		}, errCode{415, 415}},
		"Logo": {"a PNG logo is uploaded", func(t *testing.T) response {
			return w.env.api.doCT(http.MethodPost, w.brandPath(w.partner.ID, "/logo"), tinyPNG, "image/png")
		}, errCode{Status: 201}},
		"LogoNotPNG": {"a logo must be a PNG", func(t *testing.T) response {
			return w.env.api.doCT(http.MethodPost, w.brandPath(w.partner.ID, "/logo"), []byte("GIF89a"), "image/png")
		}, errCode{400, 400}},
		"LogoContentType": {"a logo is sent as image/png", func(t *testing.T) response {
			return w.env.api.doCT(http.MethodPost, w.brandPath(w.partner.ID, "/logo"), tinyPNG, "image/jpeg")
		}, errCode{415, 415}},
	}
	order := []string{"NotEnabled", "SeedExample", "Password", "UnknownOption", "WrongType", "Stale", "ContentType", "Logo", "LogoNotPNG", "LogoContentType"}
	for _, name := range order {
		tc := cases[name]
		t.Run(name, func(t *testing.T) {
			r := tc.do(t)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if r.status == http.StatusOK || r.status == http.StatusCreated {
				// PUT brand and POST logo answer the tenant object, as the official document says.
				var got Tenant
				mustUnmarshal(t, r.body, &got)
				b, _ := w.env.srv.Brand(w.partner.ID)
				if got.ID != w.partner.ID || !got.BrandEnabled || got.BrandUUID == nil || *got.BrandUUID != b.ID || got.Version != b.Version {
					t.Errorf("%s: the answer is not the branded tenant: %s", tc.reason, r.body)
				}
			}
		})
	}
	b, _ := w.env.srv.Brand(w.partner.ID)
	if b.Options["smtp_password"] != "s3cret" || b.Options["company_name"] != "mycompany" || b.Options["smtp_port"] != float64(465) {
		t.Errorf("stored options %v miss the example's values or the password", b.Options)
	}
	if string(b.Logo) != string(tinyPNG) {
		t.Errorf("the logo was not stored")
	}
	r := w.env.api.do(http.MethodGet, "/tenants/"+w.partner.ID+"/brand", nil)
	var got map[string]any
	mustUnmarshal(t, r.body, &got)
	if got["smtp_password"] != maskedSecret || got["id"] != b.ID || got["logotype"] == "2f8ad2e2-28f2-11e7-aad1-5ffe2ad47151" || got["version"] != float64(b.Version) {
		t.Errorf("GET brand = %v: the password must be masked and the logo id replaced", got)
	}
	if strings.Contains(string(r.body), "s3cret") {
		t.Errorf("the SMTP password leaked: %s", r.body)
	}
}

func TestGetBrand(t *testing.T) {
	w := newWorld(t, Options{})
	w.enableBrand(t, w.partner.ID)
	b, _ := w.env.srv.Brand(w.partner.ID)
	cases := map[string]struct {
		reason string
		path   string
		want   errCode
		id     string
	}{
		"Own":          {"a branded tenant shows its brand", "/tenants/" + w.partner.ID + "/brand", errCode{Status: 200}, b.ID},
		"NotBranded":   {"a tenant without branding has none of its own", "/tenants/" + w.customer.ID + "/brand", errCode{404, 404}, ""},
		"Effective":    {"effective=1 finds the nearest branded ancestor", "/tenants/" + w.unit.ID + "/brand?effective=1", errCode{Status: 200}, b.ID},
		"NoneAbove":    {"without branding above, the platform's brand is in effect", "/tenants/" + w.p2.ID + "/brand?effective=1", errCode{Status: 200}, PlatformBrandID},
		"BadEffective": {"effective is an integer", "/tenants/" + w.unit.ID + "/brand?effective=maybe", errCode{400, 400}, ""},
		"Outside":      {"the root is outside the caller's subtree", "/tenants/" + w.root.ID + "/brand", errCode{403, codeAccessDenied}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := w.env.api.do(http.MethodGet, tc.path, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			if tc.id != "" {
				var got struct {
					ID       string `json:"id"`
					TenantID string `json:"tenant_id"`
				}
				mustUnmarshal(t, r.body, &got)
				owner := w.partner.ID
				if tc.id == PlatformBrandID {
					owner = w.root.ID
				}
				if got.ID != tc.id || got.TenantID != owner {
					t.Errorf("%s: brand %+v, want %s of tenant %s", tc.reason, got, tc.id, owner)
				}
			}
		})
	}
	// A tenant's brand_uuid names the brand in effect for it, like effective=1.
	for id, want := range map[string]string{w.partner.ID: b.ID, w.unit.ID: b.ID, w.p2.ID: PlatformBrandID} {
		if got := w.env.api.getTenant(id).BrandUUID; got == nil || *got != want {
			t.Errorf("brand_uuid of %s = %v, want %s", id, got, want)
		}
	}
}
