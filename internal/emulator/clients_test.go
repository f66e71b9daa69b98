package emulator

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCreateClient(t *testing.T) {
	env := startEmulator(t, Options{})
	outside := env.boot.RootTenantID
	cases := map[string]struct {
		reason string
		body   any
		want   errCode
	}{
		"SeedExample": {
			reason: "the reference's example body (a managed client) is accepted",
			body: `{"tenant_id":"` + env.boot.TenantID + `","data":{"client_name":"Some application client","origin_dc_id":"ff7625c0-d649-445c-a2b3-9b59e66bfc2d"},
				"origin_id":"72403667-8e45-4dd9-bcbc-3e6047b98b3d","token_endpoint_auth_method":"client_secret_basic","type":"managed_client"}`,
			want: errCode{Status: http.StatusCreated},
		},
		"WithRedirectURIs": {
			reason: "redirect_uris are accepted",
			body:   map[string]any{"type": "api_client", "tenant_id": env.boot.TenantID, "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": []string{"com.acronis.abc://oauth"}},
			want:   errCode{Status: http.StatusCreated},
		},
		"UnknownField": {
			reason: "unknown fields are refused",
			body:   map[string]any{"type": "api_client", "tenant_id": env.boot.TenantID, "name": "x"},
			want:   errCode{Status: 400, Code: 400},
		},
		"BadType": {
			reason: "type must be api_client or managed_client",
			body:   map[string]any{"type": "robot", "tenant_id": env.boot.TenantID},
			want:   errCode{Status: 400, Code: 400},
		},
		"BadAuthMethod": {
			reason: "token_endpoint_auth_method must be one the reference lists",
			body:   map[string]any{"type": "api_client", "tenant_id": env.boot.TenantID, "token_endpoint_auth_method": "private_key_jwt"},
			want:   errCode{Status: 400, Code: 400},
		},
		"TenantOutsideScope": {
			reason: "a client cannot be made outside the caller's subtree",
			body:   map[string]any{"type": "api_client", "tenant_id": outside, "token_endpoint_auth_method": "client_secret_basic"},
			want:   errCode{Status: 403, Code: codeAccessDenied},
		},
		"TenantMissing": {
			reason: "a client needs an existing tenant",
			body:   map[string]any{"type": "api_client", "tenant_id": "00000000-0000-4000-8000-000000000000", "token_endpoint_auth_method": "client_secret_basic"},
			want:   errCode{Status: 404, Code: codeTenantNotFound},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := env.api.do(http.MethodPost, "/clients", tc.body)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if r.status != http.StatusCreated {
				return
			}
			var c CreatedClient
			mustUnmarshal(t, r.body, &c)
			if c.ClientSecret == "" || !validUUID(c.ClientID) || c.Status != "enabled" || c.TenantID != env.boot.TenantID {
				t.Errorf("created client = %+v, want an id, a secret, status enabled and the tenant", c)
			}
			// The official clientPostResult: a registration access token, a secret that never
			// expires (0) and who made the client.
			if c.RegistrationAccessToken == "" || c.ClientSecretExpiresAt != 0 || c.CreatedBy != env.boot.ClientID {
				t.Errorf("created client = %+v, want a registration_access_token, client_secret_expires_at 0 and created_by %s", c, env.boot.ClientID)
			}
			env.as(c.ClientID, c.ClientSecret) // fails the test unless the new client gets a token
		})
	}
}

func TestClientSecretShownOnce(t *testing.T) {
	env := startEmulator(t, Options{})
	id, _ := env.api.createClient(env.boot.TenantID)
	for _, path := range []string{"/clients/" + id, "/clients", "/clients?uuids=" + id} {
		r := env.api.do(http.MethodGet, path, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var raw any
		mustUnmarshal(t, r.body, &raw)
		if hasKey(raw, "client_secret") || hasKey(raw, "secret_hash") {
			t.Errorf("GET %s shows the secret: %s", path, r.body)
		}
	}
}

func hasKey(v any, key string) bool {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x[key]; ok {
			return true
		}
		for _, e := range x {
			if hasKey(e, key) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasKey(e, key) {
				return true
			}
		}
	}
	return false
}

func TestClientLifecycle(t *testing.T) {
	env := startEmulator(t, Options{})
	id, _ := env.api.createClient(env.boot.TenantID)

	r := env.api.do(http.MethodGet, "/clients/"+id, nil)
	var got APIClient
	mustUnmarshal(t, r.body, &got)
	want := APIClient{ClientID: id, Type: "api_client", TenantID: env.boot.TenantID, Data: map[string]any{"client_name": "test"},
		TokenEndpointAuthMethod: "client_secret_basic", RedirectURIs: []string{}, Status: "enabled", CreatedBy: env.boot.ClientID}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(APIClient{}, "CreatedAt")); diff != "" {
		t.Errorf("GET /clients/{id} -want +got:\n%s", diff)
	}

	// The reference's PUT example.
	r = env.api.do(http.MethodPut, "/clients/"+id, `{"data":{"client_name":"Some application client"},"status":"disabled","redirect_uris":["com.acronis.abc://oauth"]}`)
	if r.status != http.StatusOK {
		t.Fatalf("PUT example: %d %s", r.status, r.body)
	}
	snap, _ := env.srv.Client(id)
	want.Data, want.Status, want.RedirectURIs = map[string]any{"client_name": "Some application client"}, "disabled", []string{"com.acronis.abc://oauth"}
	if diff := cmp.Diff(want, snap, cmpopts.IgnoreFields(APIClient{}, "CreatedAt")); diff != "" {
		t.Errorf("store after PUT -want +got:\n%s", diff)
	}

	for name, tc := range map[string]struct {
		method, path string
		body         any
		want         errCode
	}{
		"BadStatus":    {http.MethodPut, "/clients/" + id, map[string]any{"status": "paused"}, errCode{400, 400}},
		"UnknownField": {http.MethodPut, "/clients/" + id, map[string]any{"type": "managed_client"}, errCode{400, 400}},
		"PutMissing":   {http.MethodPut, "/clients/00000000-0000-4000-8000-000000000000", map[string]any{"status": "enabled"}, errCode{404, 404}},
		"GetMissing":   {http.MethodGet, "/clients/00000000-0000-4000-8000-000000000000", nil, errCode{404, 404}},
		"WrongType":    {http.MethodPut, "/clients/" + id, "status=enabled", errCode{415, 415}},
	} {
		t.Run(name, func(t *testing.T) {
			ct := "application/json"
			if name == "WrongType" {
				ct = "text/plain"
			}
			if diff := cmp.Diff(tc.want, env.api.doCT(tc.method, tc.path, tc.body, ct).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}

	if r := env.api.do(http.MethodDelete, "/clients/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(errCode{404, 404}, env.api.do(http.MethodGet, "/clients/"+id, nil).code(t)); diff != "" {
		t.Errorf("a deleted client must be gone\n-want +got:\n%s", diff)
	}
	if diff := cmp.Diff(errCode{404, 404}, env.api.do(http.MethodDelete, "/clients/"+id, nil).code(t)); diff != "" {
		t.Errorf("deleting twice must be 404\n-want +got:\n%s", diff)
	}
	var list ClientList
	mustUnmarshal(t, env.api.do(http.MethodGet, "/clients?allow_deleted=true&uuids="+id, nil).body, &list)
	if len(list.Items) != 1 || list.Items[0].DeletedAt == nil {
		t.Errorf("allow_deleted must list the deleted client with deleted_at: %+v", list.Items)
	}
}

func TestClientLastAccess(t *testing.T) {
	env := startEmulator(t, Options{})
	id, secret := env.api.createClient(env.boot.TenantID)
	var before APIClient
	mustUnmarshal(t, env.api.do(http.MethodGet, "/clients/"+id, nil).body, &before)
	if before.LastAccessAt != nil || before.LastAccessFromIP != nil {
		t.Errorf("a client that never got a token: last_access_at %v, last_access_from_ip %v, want null", before.LastAccessAt, before.LastAccessFromIP)
	}
	env.clock.Advance(time.Minute)
	env.as(id, secret)
	var after APIClient
	mustUnmarshal(t, env.api.do(http.MethodGet, "/clients/"+id, nil).body, &after)
	if after.LastAccessAt == nil || *after.LastAccessAt != formatTime(env.clock.Now()) || after.LastAccessFromIP == nil || *after.LastAccessFromIP != "127.0.0.1" {
		t.Errorf("after a token: last_access_at %v, last_access_from_ip %v, want now and 127.0.0.1", after.LastAccessAt, after.LastAccessFromIP)
	}
}

func TestClientScope(t *testing.T) {
	env := startEmulator(t, Options{})
	a := env.api.createTenant(env.boot.TenantID, "A", KindPartner)
	b := env.api.createTenant(env.boot.TenantID, "B", KindPartner)
	aID, aSecret := env.api.createClient(a.ID)
	bID, _ := env.api.createClient(b.ID)
	asA := env.as(aID, aSecret)

	var list ClientList
	mustUnmarshal(t, asA.do(http.MethodGet, "/clients", nil).body, &list)
	var ids []string
	for _, c := range list.Items {
		ids = append(ids, c.ClientID)
	}
	if diff := cmp.Diff([]string{aID}, ids); diff != "" {
		t.Errorf("a client sees only clients of its subtree -want +got:\n%s", diff)
	}
	for name, tc := range map[string]struct {
		method, path string
		body         any
	}{
		"GetSibling":    {http.MethodGet, "/clients/" + bID, nil},
		"PutSibling":    {http.MethodPut, "/clients/" + bID, map[string]any{"status": "disabled"}},
		"DeleteParent":  {http.MethodDelete, "/clients/" + env.boot.ClientID, nil},
		"CreateOutside": {http.MethodPost, "/clients", map[string]any{"type": "api_client", "tenant_id": b.ID, "token_endpoint_auth_method": "client_secret_basic"}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(errCode{403, codeAccessDenied}, asA.do(tc.method, tc.path, tc.body).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	if c, _ := env.srv.Client(bID); c.Status != "enabled" || c.DeletedAt != nil {
		t.Errorf("a refused request changed the client: %+v", c)
	}
	// The bootstrap client reads clients below it and learns their tenant.
	var got APIClient
	mustUnmarshal(t, env.api.do(http.MethodGet, "/clients/"+aID, nil).body, &got)
	if got.TenantID != a.ID {
		t.Errorf("tenant_id = %s, want %s", got.TenantID, a.ID)
	}
}
