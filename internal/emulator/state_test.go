package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestStateRoundTrip(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	u := env.api.createUser(tr.customer.ID, "saved")
	env.api.do(http.MethodPost, "/users/"+u.ID+"/send-activation-email", nil)
	env.api.do(http.MethodPost, "/users/"+u.ID+"/password", map[string]any{"password": "pw-123456"})
	clientID, clientSecret := env.api.createClient(tr.partner.ID)
	var buf bytes.Buffer
	if err := env.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}

	t.Run("GeneratedCredentials", func(t *testing.T) {
		clock := newFakeClock()
		s := New(Options{Now: clock.Now})
		if err := s.LoadState(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(env.srv.Tenants(), s.Tenants()); diff != "" {
			t.Errorf("tenants -saved +loaded:\n%s", diff)
		}
		if diff := cmp.Diff(env.srv.Users(), s.Users()); diff != "" {
			t.Errorf("users -saved +loaded:\n%s", diff)
		}
		if diff := cmp.Diff(env.boot, s.Bootstrap()); diff != "" {
			t.Errorf("the saved bootstrap client wins over generated credentials -saved +loaded:\n%s", diff)
		}
		// Numeric tenant ids (tenant_id of usages) are kept, and a new tenant gets a new one.
		seen := map[int64]string{}
		for _, tn := range env.srv.Tenants() {
			saved, _ := env.srv.TenantNumber(tn.ID)
			loaded, _ := s.TenantNumber(tn.ID)
			if saved <= 0 || loaded != saved || seen[saved] != "" {
				t.Errorf("tenant %s: numeric id %d saved, %d loaded (also held by %q)", tn.ID, saved, loaded, seen[saved])
			}
			seen[saved] = tn.ID
		}
		pw, _ := s.Password(u.ID)
		if pw != "pw-123456" || s.ActivationEmails(u.ID) != 1 {
			t.Errorf("password %q and %d activation mails not kept", pw, s.ActivationEmails(u.ID))
		}
		hs := httptest.NewServer(s)
		defer hs.Close()
		loaded := &testEnv{t: t, srv: s, http: hs, clock: clock, boot: s.Bootstrap()}
		// A token issued before the restart still works, and the saved clients still get new ones.
		old := &apiCaller{t: t, base: hs.URL, token: env.api.token}
		if r := old.do(http.MethodGet, "/tenants/"+tr.unit.ID, nil); r.status != 200 {
			t.Errorf("old token after reload: %d %s", r.status, r.body)
		}
		if r := loaded.as(clientID, clientSecret).do(http.MethodGet, "/tenants/"+tr.customer.ID, nil); r.status != 200 {
			t.Errorf("saved client after reload: %d %s", r.status, r.body)
		}
		// New versions keep growing past the saved ones.
		cur := old.getTenant(tr.folder.ID)
		r := old.updateTenant(tr.folder.ID, map[string]any{"name": "After reload"})
		var upd Tenant
		mustUnmarshal(t, r.body, &upd)
		if upd.Version <= cur.Version {
			t.Errorf("version went from %d to %d", cur.Version, upd.Version)
		}
	})

	t.Run("ExplicitCredentialsWin", func(t *testing.T) {
		s := New(Options{ClientID: "6a0c4f8e-4d7e-4a47-9d0f-1f4b8a6f0c11", ClientSecret: "flag-secret"})
		if err := s.LoadState(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
		b := s.Bootstrap()
		want := env.boot
		want.ClientID, want.ClientSecret = "6a0c4f8e-4d7e-4a47-9d0f-1f4b8a6f0c11", "flag-secret"
		if diff := cmp.Diff(want, b); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
		hs := httptest.NewServer(s)
		defer hs.Close()
		loaded := &testEnv{t: t, srv: s, http: hs, boot: b}
		if r := loaded.as(b.ClientID, "flag-secret").do(http.MethodGet, "/tenants/"+tr.unit.ID, nil); r.status != 200 {
			t.Errorf("flag credentials act in the saved Provider: %d %s", r.status, r.body)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		s := New(Options{})
		before := s.Tenants()
		for name, in := range map[string]string{
			"NotJSON":     "nope",
			"WrongFormat": `{"format": 99, "store": {}}`,
			"NoStore":     `{"format": 1}`,
			"NoTenants":   `{"format": 1, "store": {"bootstrap": {"tenant_id": "x"}}}`,
		} {
			if err := s.LoadState(strings.NewReader(in)); err == nil {
				t.Errorf("%s: LoadState accepted %q", name, in)
			}
		}
		if diff := cmp.Diff(before, s.Tenants()); diff != "" {
			t.Errorf("a refused load changed the store:\n%s", diff)
		}
	})
}

// TestLoadOlderState loads a document written before tenants had numeric ids and before
// external_operation_status was nullable: numbers are handed out on demand, and no_operation
// reads as null.
func TestLoadOlderState(t *testing.T) {
	env := startEmulator(t, Options{})
	var buf bytes.Buffer
	if err := env.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	mustUnmarshal(t, buf.Bytes(), &doc)
	st := doc["store"].(map[string]any)
	delete(st, "tenant_numbers")
	delete(st, "last_tenant_number")
	st["tenants"].(map[string]any)[env.boot.TenantID].(map[string]any)["external_operation_status"] = "no_operation"
	data, _ := json.Marshal(doc)
	if err := env.srv.LoadState(bytes.NewReader(data)); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	var got map[string]any
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil).body, &got)
	if v, ok := got["external_operation_status"]; !ok || v != nil {
		t.Errorf("external_operation_status = %v (present %v), want null", v, ok)
	}
	seen := map[int64]bool{}
	for _, tn := range env.srv.Tenants() {
		n, ok := env.srv.TenantNumber(tn.ID)
		if !ok || n <= 0 || seen[n] {
			t.Errorf("tenant %s got numeric id %d (ok %v), want a new positive one", tn.ID, n, ok)
		}
		seen[n] = true
	}
}
