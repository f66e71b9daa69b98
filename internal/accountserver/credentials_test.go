package accountserver_test

import (
	"strings"
	"testing"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func TestCheckCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)
	created, err := e.client.CreateClient(ctx, accountserver.ClientCreate{TenantID: cust.ID, Data: accountserver.ClientData{ClientName: "probe"}})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	const wrong = "not-the-secret-at-all"
	cases := map[string]struct {
		reason       string
		id           string
		secret       accountserver.Secret
		unauthorized bool
	}{
		"Works":       {"the secret the server showed gets a token", created.ClientID, created.ClientSecret, false},
		"WrongSecret": {"another secret is refused", created.ClientID, wrong, true},
		"NoSecret":    {"an empty secret is refused without asking", created.ClientID, "", true},
		"NoClient":    {"an unknown client is refused", "00000000-0000-4000-8000-000000000000", wrong, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := e.client.CheckCredentials(ctx, tc.id, tc.secret)
			if got := accountserver.IsUnauthorized(err); got != tc.unauthorized || (!tc.unauthorized && err != nil) {
				t.Fatalf("%s: CheckCredentials = %v, IsUnauthorized %t, want %t", tc.reason, err, got, tc.unauthorized)
			}
			if err != nil && (strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), string(created.ClientSecret))) {
				t.Errorf("%s: the error shows the secret: %v", tc.reason, err)
			}
		})
	}

	if _, err := e.client.UpdateClient(ctx, created.ClientID, accountserver.ClientUpdate{Status: accountserver.ClientStatusDisabled}); err != nil {
		t.Fatal(err)
	}
	if err := e.client.CheckCredentials(ctx, created.ClientID, created.ClientSecret); !accountserver.IsUnauthorized(err) {
		t.Errorf("a disabled client: CheckCredentials = %v, want unauthorized", err)
	}
	if strings.Contains(e.logs.String(), string(created.ClientSecret)) {
		t.Errorf("the logs show the secret")
	}
	// The connection's own token still works: the probe did not replace it.
	if _, err := e.client.GetTenant(ctx, cust.ID); err != nil {
		t.Errorf("the connection after probes: %v", err)
	}
}
