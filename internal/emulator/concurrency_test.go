package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// TestConcurrentClients has 64 API clients race to create the same tenant names and to increment
// shared counters with read-modify-write on versions. A lost update would leave a counter short; a
// missing lock would let two creates of one name through.
func TestConcurrentClients(t *testing.T) {
	const (
		clients    = 64
		names      = 8
		counters   = 8
		increments = 5
	)
	env := startEmulator(t, Options{})
	counterIDs := make([]string, counters)
	for i := range counterIDs {
		ct := env.api.createTenant(env.boot.TenantID, fmt.Sprintf("Counter %d", i), KindCustomer)
		counterIDs[i] = ct.ID
	}
	tokens := make([]string, clients)
	for i := range tokens {
		id, secret := env.api.createClient(env.boot.TenantID)
		tokens[i] = env.as(id, secret).token
	}
	hc := &http.Client{}
	call := func(token, method, path string, body any) (int, []byte, error) {
		var rd io.Reader
		if body != nil {
			data, _ := json.Marshal(body)
			rd = bytes.NewReader(data)
		}
		req, _ := http.NewRequest(method, env.http.URL+"/api/2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		return resp.StatusCode, data, err
	}

	var mu sync.Mutex
	created := map[string]int{}
	versions := map[int64]bool{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			token := tokens[c]
			for n := range names {
				name := fmt.Sprintf("Race %d", (n+c)%names)
				status, body, err := call(token, http.MethodPost, "/tenants", map[string]any{"name": name, "parent_id": env.boot.TenantID, "kind": KindCustomer})
				switch {
				case err != nil:
					t.Errorf("create: %v", err)
					return
				case status == http.StatusCreated:
					mu.Lock()
					created[name]++
					mu.Unlock()
				case status != http.StatusConflict:
					t.Errorf("create %s: %d %s", name, status, body)
				}
			}
			id := counterIDs[c%counters]
			for range increments {
				for attempt := 0; ; attempt++ {
					if attempt > 1000 {
						t.Errorf("no progress on counter %s", id)
						return
					}
					status, body, err := call(token, http.MethodGet, "/tenants/"+id, nil)
					if err != nil || status != http.StatusOK {
						t.Errorf("get: %v %d %s", err, status, body)
						return
					}
					var cur Tenant
					if err := json.Unmarshal(body, &cur); err != nil {
						t.Errorf("decode: %v", err)
						return
					}
					n := 0
					if cur.CustomerID != nil {
						n, _ = strconv.Atoi(*cur.CustomerID)
					}
					status, body, err = call(token, http.MethodPut, "/tenants/"+id, map[string]any{"customer_id": strconv.Itoa(n + 1), "version": cur.Version})
					if err != nil {
						t.Errorf("put: %v", err)
						return
					}
					if status == http.StatusConflict {
						continue // stale version: read again, as the reference tells clients to
					}
					if status != http.StatusOK {
						t.Errorf("put: %d %s", status, body)
						return
					}
					var upd Tenant
					_ = json.Unmarshal(body, &upd)
					mu.Lock()
					if versions[upd.Version] {
						t.Errorf("version %d handed out twice", upd.Version)
					}
					versions[upd.Version] = true
					mu.Unlock()
					break
				}
			}
		})
	}
	wg.Wait()

	for n := range names {
		name := fmt.Sprintf("Race %d", n)
		if created[name] != 1 {
			t.Errorf("%q was created %d times, want once", name, created[name])
		}
	}
	seen := map[string]bool{}
	for _, tn := range env.srv.Tenants() {
		if tn.ParentID == env.boot.TenantID && tn.DeletedAt == nil {
			if seen[tn.Name] {
				t.Errorf("two live siblings are named %q", tn.Name)
			}
			seen[tn.Name] = true
		}
	}
	for _, id := range counterIDs {
		tn, _ := env.srv.Tenant(id)
		want := strconv.Itoa(clients / counters * increments)
		if tn.CustomerID == nil || *tn.CustomerID != want {
			t.Errorf("counter %s = %v, want %s: an update was lost", id, tn.CustomerID, want)
		}
	}
}

// TestServersAreIndependent makes servers concurrently, as parallel test suites do: they must share
// no state, so each has its own bootstrap client and tenants.
func TestServersAreIndependent(t *testing.T) {
	const n = 8
	servers := make([]*Server, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { servers[i] = New(Options{}) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, s := range servers {
		b := s.Bootstrap()
		if seen[b.ClientID] || seen[b.TenantID] {
			t.Errorf("two servers share %+v", b)
		}
		seen[b.ClientID], seen[b.TenantID] = true, true
		if got := len(s.Tenants()); got != 2 {
			t.Errorf("a fresh server has %d tenants, want root and Provider", got)
		}
	}
}
