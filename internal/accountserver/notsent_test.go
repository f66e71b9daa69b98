package accountserver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// TestNotSent: a call whose token cannot be fetched never sent its own
// request, and says so (managed.Unsent then lets a one-shot request be
// tried again); a call whose request was answered 500 does not.
func TestNotSent(t *testing.T) {
	for name, tc := range map[string]struct {
		tokenOK     bool
		wantNotSent bool
		wantPosts   int32
	}{
		"no token":        {tokenOK: false, wantNotSent: true, wantPosts: 0},
		"the request 500": {tokenOK: true, wantNotSent: false, wantPosts: 1},
	} {
		t.Run(name, func(t *testing.T) {
			var posts atomic.Int32
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/idp/token") {
					if !tc.tokenOK {
						w.WriteHeader(http.StatusServiceUnavailable)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"access_token":"t0ken","token_type":"bearer","expires_in":3600,"id_token":"x"}`))
					return
				}
				posts.Add(1)
				w.WriteHeader(http.StatusInternalServerError)
			}))
			defer hs.Close()
			c, err := accountserver.New(accountserver.Config{URL: hs.URL, ClientID: "id", ClientSecret: "s3cret", MaxAttempts: 1, RequestsPerSecond: 100, Burst: 100})
			if err != nil {
				t.Fatal(err)
			}
			err = c.SendActivationEmail(context.Background(), "0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70")
			if err == nil {
				t.Fatal("the call succeeded")
			}
			var ns interface{ NotSent() bool }
			got := errors.As(err, &ns) && ns.NotSent()
			if got != tc.wantNotSent {
				t.Errorf("NotSent = %t for %v, want %t", got, err, tc.wantNotSent)
			}
			if n := posts.Load(); n != tc.wantPosts {
				t.Errorf("requests past the token = %d, want %d", n, tc.wantPosts)
			}
		})
	}
}
