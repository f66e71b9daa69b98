package accountserver_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func TestExternalLoginURL(t *testing.T) {
	cases := map[string]struct {
		base, ott, target string
		want              string
	}{
		"encoded token": {"https://eu2.example.com", "OTT+a/b==", "",
			"https://eu2.example.com/api/2/idp/external-login?ott=OTT%2Ba%2Fb%3D%3D"},
		"with a target": {"https://eu2.example.com/", "x", "https://eu2.example.com/mc/?a=1&b=2",
			"https://eu2.example.com/api/2/idp/external-login?ott=x&targetURI=https%3A%2F%2Feu2.example.com%2Fmc%2F%3Fa%3D1%26b%3D2"},
		"under a path": {"http://127.0.0.1:8080/acc", "x", "",
			"http://127.0.0.1:8080/acc/api/2/idp/external-login?ott=x"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := accountserver.New(accountserver.Config{URL: tc.base, ClientID: "id", ClientSecret: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			got := c.ExternalLoginURL(accountserver.Secret(tc.ott), tc.target)
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			u, _ := url.Parse(got)
			if u.Query().Get("ott") != tc.ott || u.Query().Get("targetURI") != tc.target {
				t.Errorf("the query does not decode back: %v", u.Query())
			}
		})
	}
}

func TestCreateLoginTokenNamesOneUser(t *testing.T) {
	c, err := accountserver.New(accountserver.Config{URL: "http://127.0.0.1:1", ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	for name, who := range map[string]accountserver.LoginTokenFor{
		"neither": {},
		"both":    {UserID: "3f0e8c1a-2b4d-4c6e-8f10-1a2b3c4d5e6f", Login: "ada"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.CreateLoginToken(context.Background(), who); !accountserver.IsInvalid(err) {
				t.Fatalf("got %v, want an invalid-request error before anything is sent", err)
			}
		})
	}
}
