package wire

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadCompilesEveryOperation(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Operations()); got != 88 {
		t.Fatalf("operations: got %d, want 88 (one per file in schemas/ but _error.json)", got)
	}
}

func TestMatch(t *testing.T) {
	s := MustLoad()
	const id = "3f0e8c1a-2b4d-4c6e-8f10-1a2b3c4d5e6f"
	cases := map[string]struct {
		method, path string
		want         string
		params       map[string]string
	}{
		"literal beats parameter": {"GET", "/tenants/usages", "GET /tenants/usages", map[string]string{}},
		"parameter":               {"GET", "/tenants/" + id, "GET /tenants/{tenant_id}", map[string]string{"tenant_id": id}},
		"nested":                  {"PUT", "/tenants/" + id + "/offering_items", "PUT /tenants/{tenant_id}/offering_items", map[string]string{"tenant_id": id}},
		"unknown":                 {"GET", "/nothing/here", "", nil},
		"wrong method":            {"PATCH", "/tenants/" + id, "", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			op, params := s.Match(tc.method, tc.path)
			got := ""
			if op != nil {
				got = op.String()
			}
			if got != tc.want {
				t.Fatalf("op: got %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.params, params); diff != "" {
				t.Fatalf("params (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateRequest(t *testing.T) {
	s := MustLoad()
	const id = "3f0e8c1a-2b4d-4c6e-8f10-1a2b3c4d5e6f"
	json := "application/json"
	cases := map[string]struct {
		op        string
		req       Request
		wantField string // "" = valid
	}{
		"quota complete": {"PUT /tenants/{tenant_id}/offering_items", Request{
			PathParams: map[string]string{"tenant_id": id}, ContentType: json,
			Body: []byte(`{"offering_items":[{"application_id":"` + id + `","name":"storage","status":1,"quota":{"value":null,"overage":null,"version":0}}]}`),
		}, ""},
		"quota without version": {"PUT /tenants/{tenant_id}/offering_items", Request{
			PathParams: map[string]string{"tenant_id": id}, ContentType: json,
			Body: []byte(`{"offering_items":[{"application_id":"` + id + `","name":"storage","quota":{"value":5,"overage":5}}]}`),
		}, "body.offering_items[0].quota.version"},
		"status as boolean": {"PUT /tenants/{tenant_id}/offering_items", Request{
			PathParams: map[string]string{"tenant_id": id}, ContentType: json,
			Body: []byte(`{"offering_items":[{"application_id":"` + id + `","name":"storage","status":true}]}`),
		}, "body.offering_items[0].status"},
		"unknown top-level field": {"POST /tenants", Request{ContentType: json,
			Body: []byte(`{"name":"a","parent_id":"` + id + `","kind":"customer","colour":"red"}`)}, "body.colour"},
		"upper-case path id": {"GET /tenants/{tenant_id}", Request{
			PathParams: map[string]string{"tenant_id": "3F0E8C1A-2B4D-4C6E-8F10-1A2B3C4D5E6F"}}, "path.tenant_id"},
		"integer query":            {"GET /tenants", Request{Query: url.Values{"limit": {"many"}}}, "query.limit"},
		"query minimum":            {"GET /tenants", Request{Query: url.Values{"limit": {"0"}}}, "query.limit"},
		"query enum":               {"GET /tenants", Request{Query: url.Values{"lod": {"everything"}}}, "query.lod"},
		"date-time":                {"GET /tenants", Request{Query: url.Values{"updated_since": {"yesterday"}}}, "query.updated_since"},
		"required query":           {"DELETE /tenants/{tenant_id}", Request{PathParams: map[string]string{"tenant_id": id}}, "query.version"},
		"undeclared query ignored": {"GET /tenants", Request{Query: url.Values{"colour": {"red"}}}, ""},
		"content type":             {"POST /tenants", Request{ContentType: "text/plain", Body: []byte(`{}`)}, "header.Content-Type"},
		"empty body":               {"POST /tenants", Request{ContentType: json}, "body"},
		"form":                     {"POST /idp/token", Request{ContentType: "application/x-www-form-urlencoded", Body: []byte("grant_type=client_credentials")}, ""},
		"form enum":                {"POST /idp/token", Request{ContentType: "application/x-www-form-urlencoded", Body: []byte("grant_type=magic")}, "body.grant_type"},
		"png needs length": {"POST /tenants/{tenant_id}/brand/logo", Request{PathParams: map[string]string{"tenant_id": id},
			Query: url.Values{"version": {"1"}}, ContentType: "image/png", Body: []byte{1}}, "header.Content-Length"},
		"registration token id is its integer (corrected)": {"DELETE /registration_tokens/{token_id}", Request{
			PathParams: map[string]string{"token_id": "42"}}, ""},
		"registration token id is not a UUID (corrected)": {"DELETE /registration_tokens/{token_id}", Request{
			PathParams: map[string]string{"token_id": id}}, "path.token_id"},
		"big integers survive": {"PUT /tenants/{tenant_id}/offering_items", Request{
			PathParams: map[string]string{"tenant_id": id}, ContentType: json,
			Body: []byte(`{"offering_items":[{"application_id":"` + id + `","name":"storage","quota":{"value":9007199254740993,"overage":null,"version":0}}]}`),
		}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var op *Operation
			for _, o := range s.Operations() {
				if o.String() == tc.op {
					op = o
				}
			}
			if op == nil {
				t.Fatalf("no operation %s", tc.op)
			}
			v := op.ValidateRequest(tc.req)
			got := ""
			if v != nil {
				got = v.Field
			}
			if got != tc.wantField {
				t.Fatalf("violation field: got %q (%v), want %q", got, v, tc.wantField)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	s := MustLoad()
	op := s.Lookup("GET", "/tenants/{tenant_id}/usages")
	if _, err := op.ValidateResponse(200, "application/json", []byte(`{"items":[{"tenant_id":"x"}]}`)); err == nil {
		t.Fatal("a string tenant_id in usages must be refused")
	}
	check, err := op.ValidateResponse(429, "application/json", []byte(`{"error":{"code":429,"message":"slow down","details":{},"domain":null}}`))
	if check != ResponseUndeclared || err != nil {
		t.Fatalf("429: got %v, %v; want undeclared and a valid error body", check, err)
	}
	if _, err := op.ValidateResponse(429, "application/json", []byte(`{"error":{"message":"x"}}`)); err == nil {
		t.Fatal("an error body without code must be refused")
	}
}

// GET /idp/external-login is a browser page: two optional string query parameters, and a 200
// whose only declared content is text/html.
func TestExternalLoginPage(t *testing.T) {
	op := MustLoad().Lookup("GET", "/idp/external-login")
	if op == nil {
		t.Fatal("GET /idp/external-login is missing")
	}
	if v := op.ValidateRequest(Request{Query: url.Values{"ott": {"a b+c=="}, "targetURI": {"https://example.com/mc/"}}}); v != nil {
		t.Fatalf("ott and targetURI refused: %v", v)
	}
	if v := op.ValidateRequest(Request{}); v != nil {
		t.Fatalf("no query refused: %v", v)
	}
	if op.HasRequestBody() {
		t.Fatal("the page takes no body")
	}
	if _, err := op.ValidateResponse(200, "text/html; charset=utf-8", []byte("<!DOCTYPE html><html></html>")); err != nil {
		t.Fatalf("the HTML page refused: %v", err)
	}
	if _, err := op.ValidateResponse(200, "application/json", []byte(`{}`)); err == nil {
		t.Fatal("a JSON 200 must be refused: the document declares text/html")
	}
	if op.Declares(401) || op.Declares(302) {
		t.Fatal("the document declares only 200")
	}
}
