package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// started is what run printed, by key.
type started map[string]string

// startRun runs the command in the background and returns what it printed and a stop function
// that waits for run to return.
func startRun(t *testing.T, args ...string) (started, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	begin := time.Now()
	go func() {
		err := run(ctx, args, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	out := started{}
	sc := bufio.NewScanner(pr)
	for len(out) < 5 && sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			t.Fatalf("unexpected line %q", sc.Text())
		}
		out[k] = v
	}
	if len(out) < 5 {
		cancel()
		t.Fatalf("run printed %v before ending: %v", out, <-done)
	}
	if elapsed := time.Since(begin); elapsed > time.Second {
		t.Errorf("start-up took %v, want well under a second", elapsed)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	var err error
	return out, func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
}

func token(t *testing.T, base, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/2/idp/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tr) != nil {
		t.Fatalf("token: status %d", resp.StatusCode)
	}
	return tr.AccessToken
}

func call(t *testing.T, method, u, tok, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestRunPrintsAndServes(t *testing.T) {
	out, stop := startRun(t, "--addr", "127.0.0.1:0")
	defer checkStop(t, stop)
	for _, k := range []string{"url", "client_id", "client_secret", "tenant_id", "root_tenant_id"} {
		if out[k] == "" {
			t.Errorf("%s missing from the output %v", k, out)
		}
	}
	if !strings.HasPrefix(out["url"], "http://127.0.0.1:") {
		t.Errorf("url %q", out["url"])
	}
	tok := token(t, out["url"], out["client_id"], out["client_secret"])
	status, tn := call(t, http.MethodGet, out["url"]+"/api/2/tenants/"+out["tenant_id"], tok, "")
	if diff := cmp.Diff([]any{200, "Provider", "partner", out["root_tenant_id"]}, []any{status, tn["name"], tn["kind"], tn["parent_id"]}); diff != "" {
		t.Errorf("the printed tenant is the seeded Provider -want +got:\n%s", diff)
	}
	if err := stop(); err != nil {
		t.Errorf("run returned %v on shutdown", err)
	}
}

func TestRunStateSurvivesRestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"--addr", "127.0.0.1:0", "--state", state, "--client-id", "3f2b9c4e-8a1d-4e6f-9b7a-2c5d8e1f0a3b", "--client-secret", "s3cret", "--token-ttl", "1h"}
	out, stop := startRun(t, args...)
	if diff := cmp.Diff([]string{"3f2b9c4e-8a1d-4e6f-9b7a-2c5d8e1f0a3b", "s3cret"}, []string{out["client_id"], out["client_secret"]}); diff != "" {
		t.Errorf("flag credentials -want +got:\n%s", diff)
	}
	tok := token(t, out["url"], out["client_id"], "s3cret")
	status, created := call(t, http.MethodPost, out["url"]+"/api/2/tenants", tok, `{"name":"Kept","parent_id":"`+out["tenant_id"]+`","kind":"customer"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, created)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("state file not written: %v", err)
	}

	out2, stop2 := startRun(t, args...)
	defer checkStop(t, stop2)
	if diff := cmp.Diff(out["tenant_id"], out2["tenant_id"]); diff != "" {
		t.Errorf("the bootstrap tenant survives a restart -want +got:\n%s", diff)
	}
	tok = token(t, out2["url"], out2["client_id"], "s3cret")
	status, got := call(t, http.MethodGet, out2["url"]+"/api/2/tenants/"+created["id"].(string), tok, "")
	if status != 200 || got["name"] != "Kept" {
		t.Errorf("tenant after restart: %d %v", status, got)
	}
}

func TestRunFaultFlags(t *testing.T) {
	out, stop := startRun(t, "--addr", "127.0.0.1:0", "--fail-rate", "1", "--reports-not-ready")
	defer checkStop(t, stop)
	resp, err := http.Get(out["url"] + "/_emulator/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&f)
	if f["errorRate"] != float64(1) {
		t.Errorf("--fail-rate sets errorRate: %v", f)
	}
	if f["reportsNotReady"] != true {
		t.Errorf("--reports-not-ready sets reportsNotReady: %v", f)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"UnknownFlag":   {"--colour", "red"},
		"FailRateAbove": {"--fail-rate", "2"},
		"TLSHalf":       {"--tls-cert", "x.pem"},
		"Positional":    {"serve"},
		"BadDuration":   {"--latency", "soon"},
		"BadAddr":       {"--addr", "nowhere:-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(context.Background(), args, io.Discard); err == nil {
				t.Errorf("run accepted %v", args)
			}
		})
	}
}

// checkStop stops a run and fails the test if it did not end cleanly.
func checkStop(t *testing.T, stop func() error) {
	t.Helper()
	if err := stop(); err != nil {
		t.Errorf("stopping the emulator: %v", err)
	}
}
