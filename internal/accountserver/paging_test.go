package accountserver_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func TestListTenantsFollowsTheCursor(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	var want []string
	for i := range 7 {
		want = append(want, e.mustCreateTenant(t, e.boot.TenantID, fmt.Sprintf("child-%d", i), accountserver.KindCustomer).ID)
	}
	e.srv.ResetRequests()
	before := len(e.tr.apiRequests())

	got, err := e.client.ListAllTenants(ctx, accountserver.TenantQuery{ParentID: e.boot.TenantID, Limit: 3})
	if err != nil {
		t.Fatalf("ListAllTenants: %v", err)
	}
	var ids []string
	for _, tn := range got {
		ids = append(ids, tn.ID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("tenants (-want +got):\n%s", diff)
	}
	pages := e.tr.apiRequests()[before:]
	if diff := cmp.Diff(3, len(pages)); diff != "" {
		t.Fatalf("pages fetched (-want +got):\n%s", diff)
	}
	first, _ := url.ParseQuery(pages[0].Query)
	if diff := cmp.Diff(url.Values{"parent_id": {e.boot.TenantID}, "limit": {"3"}}, first); diff != "" {
		t.Errorf("first page query (-want +got):\n%s", diff)
	}
	for i, p := range pages[1:] {
		q, _ := url.ParseQuery(p.Query)
		if len(q) != 1 || q.Get("after") == "" {
			t.Errorf("page %d query = %v, want the cursor alone", i+2, q)
		}
	}
}

func TestListTenantsStopsWhenTheCallerStops(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	for i := range 7 {
		e.mustCreateTenant(t, e.boot.TenantID, fmt.Sprintf("child-%d", i), accountserver.KindCustomer)
	}
	before := len(e.tr.apiRequests())
	n := 0
	for _, err := range e.client.ListTenants(ctx, accountserver.TenantQuery{ParentID: e.boot.TenantID, Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 4 {
			break
		}
	}
	if diff := cmp.Diff(2, len(e.tr.apiRequests())-before); diff != "" {
		t.Errorf("pages fetched for 4 items (-want +got):\n%s", diff)
	}
}

func TestListTenantsReportsAnErrorMidway(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	for i := range 4 {
		e.mustCreateTenant(t, e.boot.TenantID, fmt.Sprintf("child-%d", i), accountserver.KindCustomer)
	}
	e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
		if strings.Contains(r.URL.RawQuery, "after=") {
			return answer(http.StatusForbidden, nil, `{"error":{"code":1002,"message":"access denied","details":{"info":""},"domain":"PlatformAccountServer"}}`), nil
		}
		return nil, nil
	})
	got, err := e.client.ListAllTenants(ctx, accountserver.TenantQuery{ParentID: e.boot.TenantID, Limit: 3})
	if !accountserver.IsForbidden(err) || got != nil {
		t.Errorf("ListAllTenants = %d tenants, %v; want nothing and a forbidden error", len(got), err)
	}
}

func TestGetTenantsBatchesOf100(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	var ids, real []string
	for i := range 3 {
		id := e.mustCreateTenant(t, e.boot.TenantID, fmt.Sprintf("real-%d", i), accountserver.KindCustomer).ID
		real = append(real, id)
	}
	// 250 IDs in all, unknown ones among them (they are simply absent from the answer).
	ids = append(ids, real...)
	for len(ids) < 250 {
		ids = append(ids, uuid.NewString())
	}
	ids = append(ids, real[0]) // a duplicate is asked for once
	before := len(e.tr.apiRequests())
	got, err := e.client.GetTenants(ctx, ids)
	if err != nil {
		t.Fatalf("GetTenants: %v", err)
	}
	var gotIDs []string
	for _, tn := range got {
		gotIDs = append(gotIDs, tn.ID)
	}
	slices.Sort(gotIDs)
	slices.Sort(real)
	if diff := cmp.Diff(real, gotIDs); diff != "" {
		t.Errorf("tenants (-want +got):\n%s", diff)
	}
	reqs := e.tr.apiRequests()[before:]
	var sizes []int
	for _, r := range reqs {
		q, _ := url.ParseQuery(r.Query)
		sizes = append(sizes, len(strings.Split(q.Get("uuids"), ",")))
	}
	if diff := cmp.Diff([]int{100, 100, 50}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}

func TestTenantChildrenAndUsers(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	a := e.mustCreateTenant(t, e.boot.TenantID, "a", accountserver.KindCustomer)
	b := e.mustCreateTenant(t, e.boot.TenantID, "b", accountserver.KindFolder)
	got, err := e.client.TenantChildren(ctx, e.boot.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}
	u, err := e.client.CreateUser(ctx, accountserver.UserCreate{TenantID: a.ID, Login: "alice", Contact: accountserver.Contact{Email: "alice@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	users, err := e.client.ListTenantUsers(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].ID != u.ID {
		t.Errorf("ListTenantUsers = %+v, want alice", users)
	}
	found, err := e.client.FindUserByLogin(ctx, a.ID, "alice")
	if err != nil || found.ID != u.ID {
		t.Errorf("FindUserByLogin = %v, %v", found, err)
	}
	if _, err := e.client.FindUserByLogin(ctx, a.ID, "bob"); !accountserver.IsNotFound(err) {
		t.Errorf("FindUserByLogin(bob): IsNotFound(%v) = false", err)
	}
}

func TestListUsersFollowsTheCursor(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)
	var want []string
	for i := range 5 {
		u, err := e.client.CreateUser(ctx, accountserver.UserCreate{TenantID: cust.ID, Login: fmt.Sprintf("user-%d", i),
			Contact: accountserver.Contact{Email: fmt.Sprintf("user-%d@acme.example", i)}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, u.Login)
	}
	before := e.tr.count(http.MethodGet, "/api/2/users")
	users, err := accountserver.All(e.client.ListUsers(ctx, accountserver.UserQuery{SubtreeRootTenantID: cust.ID, Limit: 2}))
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.Login)
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(3, e.tr.count(http.MethodGet, "/api/2/users")-before); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}
