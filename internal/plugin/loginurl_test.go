package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// runSubcommand runs a subcommand with args against a fake API server holding objs, as
// `kubectl accounts` would (the -n flag is the root's).
func runSubcommand(t *testing.T, newCmd func(*Options) *cobra.Command, objs []client.Object, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	var out, errOut bytes.Buffer
	o := &Options{IOStreams: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, OperatorNamespace: "tenant-operator-system"}
	o.once.Do(func() { o.client = pluginFakeClient(objs...) })
	cmd := newCmd(o)
	cmd.SilenceUsage = true // as under the root command
	cmd.PersistentFlags().StringVarP(&o.NamespaceFlag, "namespace", "n", "", "")
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// loginWorld is an emulator with a customer and users, and the Kubernetes objects that point at
// them through a ClusterAccountServer.
type loginWorld struct {
	srv  *emulator.Server
	http *httptest.Server
	objs []client.Object
	// remote user IDs by login
	ids map[string]string

	mu         sync.Mutex
	violations []error
}

func newLoginWorld(t *testing.T) *loginWorld {
	t.Helper()
	w := &loginWorld{ids: map[string]string{}}
	w.srv = emulator.New(emulator.Options{CheckResponse: func(r emulator.ResponseReport) {
		if r.Violation != nil {
			w.mu.Lock()
			w.violations = append(w.violations, r.Violation)
			w.mu.Unlock()
		}
	}})
	w.http = httptest.NewServer(w.srv)
	t.Cleanup(w.http.Close)
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, v := range w.violations {
			t.Errorf("emulator answer off the wire schema: %v", v)
		}
	})
	boot := w.srv.Bootstrap()
	ctx := context.Background()
	api, err := accountserver.New(accountserver.Config{URL: w.http.URL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	customer, err := api.CreateTenant(ctx, accountserver.TenantCreate{Name: "Acme", ParentID: boot.TenantID, Kind: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"alice", "bob-disabled-remotely", "spec-disabled", "status-disabled", "not-created"} {
		u, err := api.CreateUser(ctx, accountserver.UserCreate{TenantID: customer.ID, Login: login, Contact: accountserver.Contact{Email: login + "@acme.example"}})
		if err != nil {
			t.Fatal(err)
		}
		w.ids[login] = u.ID
	}
	bob, err := api.GetUser(ctx, w.ids["bob-disabled-remotely"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.UpdateUser(ctx, bob.ID, accountserver.UserUpdate{Version: bob.Version, Enabled: ptr.To(false)}); err != nil {
		t.Fatal(err)
	}

	readyCond := []metav1.Condition{}
	meta.SetStatusCondition(&readyCond, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Connected"})
	cas := &v1.ClusterAccountServer{ObjectMeta: metav1.ObjectMeta{Name: "emu"}}
	cas.Spec.URL = w.http.URL
	cas.Spec.CredentialsSecretRef = v1.SecretReference{Name: "emu-credentials"}
	cas.Spec.AllowedNamespaces = &metav1.LabelSelector{}
	cas.Status.TenantID, cas.Status.TenantName = boot.TenantID, boot.TenantName
	cas.Status.Conditions = readyCond
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-operator-system", Name: "emu-credentials"},
		Data: map[string][]byte{"client_id": []byte(boot.ClientID), "client_secret": []byte(boot.ClientSecret)}}
	acme := &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "acme"},
		Spec: v1.TenantSpec{Kind: "customer", ManagedSpec: v1.ManagedSpec{AccountServerRef: &v1.AccountServerReference{Kind: "ClusterAccountServer", Name: "emu"}}}}
	acme.Status.ID = customer.ID
	user := func(name string, mutate func(*v1.User)) *v1.User {
		u := &v1.User{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec: v1.UserSpec{TenantRef: &v1.LocalReference{Name: "acme"}, Login: name}}
		u.Status.ID = w.ids[name]
		u.Status.Enabled = ptr.To(true)
		if mutate != nil {
			mutate(u)
		}
		return u
	}
	w.objs = []client.Object{cas, secret, acme,
		user("alice", nil),
		user("bob-disabled-remotely", nil), // status not yet caught up with the server
		user("spec-disabled", func(u *v1.User) { u.Spec.Enabled = ptr.To(false) }),
		user("status-disabled", func(u *v1.User) { u.Status.Enabled = ptr.To(false) }),
		user("not-created", func(u *v1.User) { u.Status.ID = "" }),
	}
	return w
}

// requests lists the /api/2 requests since the last call, as "METHOD path".
func (w *loginWorld) requests() []string {
	var out []string
	for _, r := range w.srv.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	w.srv.ResetRequests()
	return out
}

func (w *loginWorld) loginURL(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	w.srv.ResetRequests()
	return runSubcommand(t, newLoginURLCommand, w.objs, append([]string{"-n", "default"}, args...)...)
}

// ottOf takes the token out of a printed link, checking the link's shape.
func (w *loginWorld) ottOf(t *testing.T, stdout, target string) (string, *url.URL) {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("want exactly one line (the link), got %q", stdout)
	}
	u, err := url.Parse(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != w.http.URL+"/api/2/idp/external-login" {
		t.Fatalf("link goes to %s", got)
	}
	if u.Query().Get("targetURI") != target {
		t.Fatalf("targetURI = %q, want %q", u.Query().Get("targetURI"), target)
	}
	ott := u.Query().Get("ott")
	if ott == "" {
		t.Fatal("no ott in the link")
	}
	return ott, u
}

func getLink(t *testing.T, link string) int {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func postOTTLogin(t *testing.T, base, ott string) int {
	t.Helper()
	body, _ := jsonBody(map[string]string{"ott": ott})
	resp, err := http.Post(base+"/api/2/idp/ott/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestLoginURLEndToEnd(t *testing.T) {
	w := newLoginWorld(t)

	t.Run("a User object: the link logs in once, through the page", func(t *testing.T) {
		const target = "https://console.example/mc/?tab=devices"
		stdout, stderr, err := w.loginURL(t, "alice", "--target", target)
		if err != nil {
			t.Fatalf("%v (stderr %s)", err, stderr)
		}
		ott, link := w.ottOf(t, stdout, target)
		if stderr != "" {
			t.Errorf("stderr = %q, want nothing", stderr)
		}
		if got := w.requests(); !sameStrings(got, []string{"POST /api/2/idp/token", "GET /api/2/users/" + w.ids["alice"], "POST /api/2/idp/ott"}) {
			t.Errorf("requests = %v", got)
		}
		if code := getLink(t, link.String()); code != http.StatusOK {
			t.Fatalf("first use: %d, want 200", code)
		}
		if code := getLink(t, link.String()); code != http.StatusUnauthorized {
			t.Fatalf("reuse: %d, want 401", code)
		}
		if code := postOTTLogin(t, w.http.URL, ott); code != http.StatusUnauthorized {
			t.Fatalf("reuse through ott/login: %d, want 401", code)
		}
	})
	t.Run("a login and a connection: the token logs in once, through ott/login", func(t *testing.T) {
		stdout, stderr, err := w.loginURL(t, "--login", "ALICE", "--connection", "ClusterAccountServer/emu")
		if err != nil {
			t.Fatalf("%v (stderr %s)", err, stderr)
		}
		ott, _ := w.ottOf(t, stdout, "")
		if code := postOTTLogin(t, w.http.URL, ott); code != http.StatusOK {
			t.Fatalf("first use: %d, want 200", code)
		}
		if code := postOTTLogin(t, w.http.URL, ott); code != http.StatusUnauthorized {
			t.Fatalf("reuse: %d, want 401", code)
		}
		if strings.Contains(stderr, ott) {
			t.Error("stderr holds the token")
		}
	})

	refusals := map[string]struct {
		args []string
		// want is part of the error; sent, when not nil, are exactly the requests made before
		// refusing (none: nothing was asked of the server).
		want string
		sent []string
	}{
		"spec.enabled false":      {[]string{"spec-disabled"}, "spec.enabled: false", []string{}},
		"status.enabled false":    {[]string{"status-disabled"}, "status.enabled: false", []string{}},
		"no status.id":            {[]string{"not-created"}, "status.id is empty", []string{}},
		"no such User":            {[]string{"nobody"}, "User default/nobody not found", []string{}},
		"disabled on the server":  {[]string{"bob-disabled-remotely"}, "disabled on the account server", []string{"POST /api/2/idp/token", "GET /api/2/users/" + w.ids["bob-disabled-remotely"]}},
		"a login disabled":        {[]string{"--login", "bob-disabled-remotely", "--connection", "cas/emu"}, "disabled on the account server", nil},
		"an unknown login":        {[]string{"--login", "nobody", "--connection", "cas/emu"}, `no user with login "nobody"`, nil},
		"an unknown connection":   {[]string{"--login", "alice", "--connection", "ClusterAccountServer/nope"}, "not found", []string{}},
		"USER and --login":        {[]string{"alice", "--login", "alice"}, "not both", []string{}},
		"--login alone":           {[]string{"--login", "alice"}, "--login needs --connection", []string{}},
		"USER with --connection":  {[]string{"alice", "--connection", "cas/emu"}, "--connection goes with --login", []string{}},
		"nothing named":           {nil, "name a User object", []string{}},
		"a target with a space":   {[]string{"alice", "--target", "https://x/ y"}, "without whitespace", []string{}},
		"a bad connection string": {[]string{"--login", "alice", "--connection", "emu"}, "want KIND/NAME", []string{}},
	}
	for name, tc := range refusals {
		t.Run("refused: "+name, func(t *testing.T) {
			stdout, _, err := w.loginURL(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			got := w.requests()
			for _, r := range got {
				if r == "POST /api/2/idp/ott" {
					t.Fatalf("a one-time token was asked for: %v", got)
				}
			}
			if tc.sent != nil && !sameStrings(got, tc.sent) {
				t.Errorf("requests = %v, want %v", got, tc.sent)
			}
		})
	}
}

func TestCheckUserMayLogIn(t *testing.T) {
	cases := map[string]struct {
		user v1.User
		want string
	}{
		"created and enabled":   {v1.User{Status: v1.UserStatus{ManagedStatus: v1.ManagedStatus{ID: "x"}, Enabled: ptr.To(true)}}, ""},
		"enabled left out":      {v1.User{Status: v1.UserStatus{ManagedStatus: v1.ManagedStatus{ID: "x"}}}, ""},
		"spec disabled":         {v1.User{Spec: v1.UserSpec{Enabled: ptr.To(false)}, Status: v1.UserStatus{ManagedStatus: v1.ManagedStatus{ID: "x"}}}, "spec.enabled: false"},
		"status disabled":       {v1.User{Status: v1.UserStatus{ManagedStatus: v1.ManagedStatus{ID: "x"}, Enabled: ptr.To(false)}}, "status.enabled: false"},
		"not created":           {v1.User{}, "status.id is empty"},
		"disabled, not created": {v1.User{Spec: v1.UserSpec{Enabled: ptr.To(false)}}, "spec.enabled: false"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckUserMayLogIn(&tc.user)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func jsonBody(v any) (io.Reader, error) {
	var b bytes.Buffer
	err := json.NewEncoder(&b).Encode(v)
	return &b, err
}
