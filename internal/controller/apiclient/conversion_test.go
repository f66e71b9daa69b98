package apiclient

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

const testUID = types.UID("0d4c2b1a-9f8e-4d7c-8b6a-5e4f3a2b1c0d")

// testClient is an ApiClient object named ci/backup with testUID.
func testClient(mutate func(*v1.ApiClient)) *v1.ApiClient {
	c := &v1.ApiClient{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "backup", UID: testUID},
		Spec:       v1.ApiClientSpec{TenantID: "t-1", SecretName: "backup-credentials"},
	}
	if mutate != nil {
		mutate(c)
	}
	return c
}

func TestWantEnabled(t *testing.T) {
	cases := map[string]struct {
		reason  string
		enabled *bool
		want    bool
	}{
		"Default":  {"a client is enabled unless the spec says otherwise", nil, true},
		"Enabled":  {"enabled: true is enabled", ptr.To(true), true},
		"Disabled": {"enabled: false is disabled", ptr.To(false), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := wantEnabled(testClient(func(c *v1.ApiClient) { c.Spec.Enabled = tc.enabled }))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestWantStatus(t *testing.T) {
	cases := map[string]struct {
		reason  string
		enabled *bool
		want    string
	}{
		"Default":  {"a client is enabled by default", nil, accountserver.ClientStatusEnabled},
		"Enabled":  {"enabled: true", ptr.To(true), "enabled"},
		"Disabled": {"enabled: false", ptr.To(false), "disabled"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := wantStatus(testClient(func(c *v1.ApiClient) { c.Spec.Enabled = tc.enabled }))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMarker(t *testing.T) {
	cases := map[string]struct {
		reason string
		uid    types.UID
		want   string
	}{
		"UID":      {"the UID in brackets, after a space", testUID, " [" + string(testUID) + "]"},
		"OtherUID": {"another object, another marker", "u-2", " [u-2]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := marker(testClient(func(c *v1.ApiClient) { c.UID = tc.uid }))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestClientName(t *testing.T) {
	cases := map[string]struct {
		reason string
		client *v1.ApiClient
		want   string
	}{
		"Default": {"<namespace>/<name> and the marker", testClient(nil), "ci/backup [" + string(testUID) + "]"},
		"DisplayName": {"the display name and the marker",
			testClient(func(c *v1.ApiClient) { c.Spec.DisplayName = "Nightly backup" }), "Nightly backup [" + string(testUID) + "]"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, clientName(tc.client)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOurs(t *testing.T) {
	const tenantID = "t-1"
	deleted := ptr.To(accountserver.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	onServer := func(tenant, name string, deletedAt *accountserver.Time) accountserver.APIClient {
		return accountserver.APIClient{ClientID: "c-1", Type: accountserver.ClientTypeAPI, TenantID: tenant,
			Data: accountserver.ClientData{ClientName: name}, Status: "enabled", DeletedAt: deletedAt}
	}
	mine := "ci/backup [" + string(testUID) + "]"
	cases := map[string]struct {
		reason string
		got    accountserver.APIClient
		want   bool
	}{
		"Ours": {"our name in our tenant", onServer(tenantID, mine, nil), true},
		"Renamed": {"the marker, not the display name, tells our clients: a client made under an older display name is ours",
			onServer(tenantID, "old name ["+string(testUID)+"]", nil), true},
		"MarkerOnly":      {"a name that is only the marker", onServer(tenantID, " ["+string(testUID)+"]", nil), true},
		"OtherTenant":     {"our name in another tenant is not ours", onServer("t-2", mine, nil), false},
		"Deleted":         {"a deleted client is not ours any more", onServer(tenantID, mine, deleted), false},
		"OtherObject":     {"another object's marker", onServer(tenantID, "ci/backup [u-2]", nil), false},
		"NoMarker":        {"a client named like us but without a marker", onServer(tenantID, "ci/backup", nil), false},
		"MarkerNotAtEnd":  {"the marker must end the name", onServer(tenantID, mine+" (copy)", nil), false},
		"UIDWithoutSpace": {"the marker includes the space before the bracket", onServer(tenantID, "x["+string(testUID)+"]", nil), false},
		"LongerUID": {"a UID ending like ours is another object's",
			onServer(tenantID, "ci/backup [x"+string(testUID)+"]", nil), false},
		"Unnamed": {"a client without a name", onServer(tenantID, "", nil), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ours(testClient(nil), tenantID, tc.got)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestServerURL(t *testing.T) {
	cases := map[string]struct {
		reason  string
		apiRoot string
		want    string
	}{
		"APIRoot":  {"the API root without /api/2", "https://eu2-cloud.example.com/api/2", "https://eu2-cloud.example.com"},
		"Path":     {"a datacenter under a path keeps it", "https://dc.example.com/acct/api/2", "https://dc.example.com/acct"},
		"NoSuffix": {"a URL without /api/2 is left as it is", "https://dc.example.com", "https://dc.example.com"},
		"Once":     {"only the one /api/2 at the end is removed", "https://dc.example.com/api/2/api/2", "https://dc.example.com/api/2"},
		"NotAtEnd": {"/api/2 elsewhere is not removed", "https://dc.example.com/api/20", "https://dc.example.com/api/20"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, serverURL(tc.apiRoot)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSetCredentials(t *testing.T) {
	const clientID, url = "c-42", "https://dc.example.com"
	const secret = accountserver.Secret("s3cr3t-value")
	meta := metav1.ObjectMeta{Namespace: "ci", Name: "backup-credentials"}
	want := func(labels map[string]string) *corev1.Secret {
		m := meta
		m.Labels = labels
		return &corev1.Secret{ObjectMeta: m, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{
			"client_id": []byte(clientID), "client_secret": []byte("s3cr3t-value"), "url": []byte(url),
		}}
	}
	cases := map[string]struct {
		reason string
		secret *corev1.Secret
		want   *corev1.Secret
	}{
		"New": {"an empty Secret gets the label, the type and the three keys; the secret's value, not its redacted form",
			&corev1.Secret{ObjectMeta: meta},
			want(map[string]string{"app.kubernetes.io/managed-by": "tenant-operator"})},
		"KeepLabels": {"labels already on the Secret are kept",
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "backup-credentials", Labels: map[string]string{"team": "ops"}}},
			want(map[string]string{"team": "ops", "app.kubernetes.io/managed-by": "tenant-operator"})},
		"ManagedByOverwritten": {"the managed-by label is the operator's",
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "backup-credentials", Labels: map[string]string{"app.kubernetes.io/managed-by": "helm"}}},
			want(map[string]string{"app.kubernetes.io/managed-by": "tenant-operator"})},
		"Replace": {"old credentials, other keys and another type are replaced",
			&corev1.Secret{ObjectMeta: meta, Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{
				"client_id": []byte("c-old"), "client_secret": []byte("old"), "url": []byte("https://old.example.com"), "extra": []byte("x"),
			}, StringData: nil},
			want(map[string]string{"app.kubernetes.io/managed-by": "tenant-operator"})},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setCredentials(tc.secret, clientID, secret, url)
			if diff := cmp.Diff(tc.want, tc.secret); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestClientUpdate(t *testing.T) {
	mine := "ci/backup [" + string(testUID) + "]"
	server := func(name, status string) *accountserver.APIClient {
		return &accountserver.APIClient{ClientID: "c-1", Type: accountserver.ClientTypeAPI, TenantID: "t-1",
			Data: accountserver.ClientData{ClientName: name}, Status: status,
			TokenEndpointAuthMethod: accountserver.AuthMethodSecretBasic}
	}
	cases := map[string]struct {
		reason     string
		client     *v1.ApiClient
		got        *accountserver.APIClient
		want       accountserver.ClientUpdate
		wantFields []string
	}{
		"UpToDate": {"nothing differs: an empty body and no field names",
			testClient(nil), server(mine, "enabled"), accountserver.ClientUpdate{}, nil},
		"DisplayName": {"a new display name renames the client, marker included",
			testClient(func(c *v1.ApiClient) { c.Spec.DisplayName = "Nightly" }), server(mine, "enabled"),
			accountserver.ClientUpdate{Data: &accountserver.ClientData{ClientName: "Nightly [" + string(testUID) + "]"}}, []string{"displayName"}},
		"DisplayNameRemoved": {"without a display name the client is named <namespace>/<name> again",
			testClient(nil), server("Nightly ["+string(testUID)+"]", "enabled"),
			accountserver.ClientUpdate{Data: &accountserver.ClientData{ClientName: mine}}, []string{"displayName"}},
		"DisplayNameSame": {"a client already carrying the display name is not renamed",
			testClient(func(c *v1.ApiClient) { c.Spec.DisplayName = "Nightly" }), server("Nightly ["+string(testUID)+"]", "enabled"),
			accountserver.ClientUpdate{}, nil},
		"Disable": {"enabled: false disables an enabled client",
			testClient(func(c *v1.ApiClient) { c.Spec.Enabled = ptr.To(false) }), server(mine, "enabled"),
			accountserver.ClientUpdate{Status: "disabled"}, []string{"enabled"}},
		"EnabledByDefault": {"a spec without enabled enables a disabled client",
			testClient(nil), server(mine, "disabled"),
			accountserver.ClientUpdate{Status: "enabled"}, []string{"enabled"}},
		"StaysDisabled": {"a disabled client the spec wants disabled is left alone",
			testClient(func(c *v1.ApiClient) { c.Spec.Enabled = ptr.To(false) }), server(mine, "disabled"),
			accountserver.ClientUpdate{}, nil},
		"NoStatusShown": {"a client the server shows without a status is sent the wanted one",
			testClient(nil), server(mine, ""),
			accountserver.ClientUpdate{Status: "enabled"}, []string{"enabled"}},
		"Both": {"name and status, in a stable order",
			testClient(func(c *v1.ApiClient) { c.Spec.DisplayName, c.Spec.Enabled = "Nightly", ptr.To(false) }), server(mine, "enabled"),
			accountserver.ClientUpdate{Data: &accountserver.ClientData{ClientName: "Nightly [" + string(testUID) + "]"}, Status: "disabled"},
			[]string{"displayName", "enabled"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, fields := clientUpdate(tc.client, tc.got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: update -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Errorf("%s: fields -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
