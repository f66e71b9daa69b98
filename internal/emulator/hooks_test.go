package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExtensionStateRoundTrip saves a store with every kind of extension state and loads it into a new
// server: nothing may be lost, and the loaded server keeps enforcing the rules.
func TestExtensionStateRoundTrip(t *testing.T) {
	w := newWorld(t, Options{InstantReports: true})
	v := storedItem(t, w.env.srv, w.customer.ID, "vms", "").Quota.Version
	if r := w.putItems(w.customer.ID, map[string]any{"offering_items": []map[string]any{{"application_id": CyberProtectionAppID, "name": "vms", "status": 1, "quota": quotaOf(4, 5, v)}}}); r.status != 200 {
		t.Fatalf("set quota: %d %s", r.status, r.body)
	}
	w.env.srv.SetUsage(w.customer.ID, "vms", "", 3)
	loc := w.createLocation(t, w.partner.ID, "Site")
	in := w.createInfra(t, w.partner.ID, loc.ID, "backup")
	w.enableBrand(t, w.partner.ID)
	rep := w.createReport(t, reportBody(w.customer.ID, nil))

	var buf bytes.Buffer
	if err := w.env.srv.SaveState(&buf); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	loaded := New(Options{Now: w.env.clock.Now, InstantReports: true})
	if err := loaded.LoadState(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	checks := map[string]struct {
		reason string
		want   any
		got    any
	}{
		"Items":    {"offering items survive", w.env.srv.OfferingItems(w.customer.ID), loaded.OfferingItems(w.customer.ID)},
		"Bindings": {"bindings survive", w.env.srv.Bindings(w.unit.ID), loaded.Bindings(w.unit.ID)},
		"Location": {"locations survive", loc, okValue(loaded.Location(loc.ID))},
		"Infra":    {"storages survive", in, okValue(loaded.Infra(in.ID))},
		"Brand":    {"brands survive", okValue(w.env.srv.Brand(w.partner.ID)), okValue(loaded.Brand(w.partner.ID))},
		"Report":   {"reports survive", rep, okValue(loaded.Report(rep.ID))},
		"Stored":   {"stored reports survive", w.env.srv.StoredReports(rep.ID), loaded.StoredReports(rep.ID)},
		"UsageSeen": {"usage survives", 3.0, func() float64 {
			loaded.mu.Lock()
			defer loaded.mu.Unlock()
			return loaded.ownUsage(w.customer.ID, "vms", "")
		}()},
	}
	for name, c := range checks {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, c.got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", c.reason, diff)
			}
		})
	}
}

func okValue[T any](v T, ok bool) T {
	if !ok {
		var zero T
		return zero
	}
	return v
}

// TestLoadStateWithoutExtension loads a document whose extension part is missing: the handlers must
// still work on the zero value.
func TestLoadStateWithoutExtension(t *testing.T) {
	env := startEmulator(t, Options{})
	var buf bytes.Buffer
	if err := env.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	mustUnmarshal(t, buf.Bytes(), &doc)
	delete(doc["store"].(map[string]any), "ext")
	data, _ := json.Marshal(doc)
	if err := env.srv.LoadState(bytes.NewReader(data)); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	r := env.api.do(http.MethodPost, "/locations", map[string]any{"owner_tenant_id": env.boot.TenantID, "name": "After load"})
	if r.status != http.StatusCreated {
		t.Errorf("POST /locations after loading a document without extension: %d %s", r.status, r.body)
	}
	r = env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID+"/offering_items", nil)
	if diff := cmp.Diff(errCode{Status: 200}, r.code(t)); diff != "" {
		t.Errorf("GET offering items: -want +got:\n%s", diff)
	}
}
