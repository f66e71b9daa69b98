package accountserver_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func TestNew(t *testing.T) {
	type want struct {
		URL string
		Err bool
	}
	ok := func(u string) accountserver.Config {
		return accountserver.Config{URL: u, ClientID: "id", ClientSecret: "secret"}
	}
	cases := map[string]struct {
		reason string
		cfg    accountserver.Config
		want   want
	}{
		"Plain":          {reason: "the API root is appended", cfg: ok("https://eu2-cloud.example.com"), want: want{URL: "https://eu2-cloud.example.com/api/2"}},
		"TrailingSlash":  {reason: "a trailing slash is dropped", cfg: ok("https://eu2-cloud.example.com/"), want: want{URL: "https://eu2-cloud.example.com/api/2"}},
		"AlreadyAPIRoot": {reason: "the API root is not doubled", cfg: ok("http://127.0.0.1:8080/api/2/"), want: want{URL: "http://127.0.0.1:8080/api/2"}},
		"PathPrefix":     {reason: "a reverse proxy prefix is kept", cfg: ok("https://gw.example.com/acc"), want: want{URL: "https://gw.example.com/acc/api/2"}},
		"NoScheme":       {reason: "a scheme is required", cfg: ok("eu2-cloud.example.com"), want: want{Err: true}},
		"WrongScheme":    {reason: "only http and https", cfg: ok("ftp://eu2-cloud.example.com"), want: want{Err: true}},
		"NoHost":         {reason: "a host is required", cfg: ok("https://"), want: want{Err: true}},
		"UserInfo":       {reason: "credentials do not belong in the URL", cfg: ok("https://u:p@eu2-cloud.example.com"), want: want{Err: true}},
		"Query":          {reason: "a query would be lost", cfg: ok("https://eu2-cloud.example.com?x=1"), want: want{Err: true}},
		"Empty":          {reason: "the URL is required", cfg: ok(""), want: want{Err: true}},
		"NoSecret":       {reason: "credentials are required", cfg: accountserver.Config{URL: "https://a.example.com", ClientID: "id"}, want: want{Err: true}},
		"NegativeRate":   {reason: "a negative budget is a mistake", cfg: accountserver.Config{URL: "https://a.example.com", ClientID: "id", ClientSecret: "s", RequestsPerSecond: -1}, want: want{Err: true}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := accountserver.New(tc.cfg)
			got := want{Err: err != nil}
			if c != nil {
				got.URL = c.URL()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
			if err != nil && strings.Contains(err.Error(), "u:p@") {
				t.Errorf("error quotes the URL's credentials: %v", err)
			}
		})
	}
}
