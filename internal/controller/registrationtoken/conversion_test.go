package registrationtoken

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

const tenantID = "0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"

func tokenSpec(mutate func(*v1.RegistrationTokenSpec)) *v1.RegistrationToken {
	t := &v1.RegistrationToken{Spec: v1.RegistrationTokenSpec{TenantID: tenantID, SecretName: "s"}}
	if mutate != nil {
		mutate(&t.Spec)
	}
	return t
}

func TestDefaults(t *testing.T) {
	cases := map[string]struct {
		reason      string
		spec        func(*v1.RegistrationTokenSpec)
		wantScopes  []string
		wantExpires time.Duration
		wantBefore  time.Duration
	}{
		"Empty": {
			reason:     "no scopes: agent registration in the tenant; 720h, renewed a third before (240h)",
			wantScopes: []string{"urn:acronis.com:tenant-id:" + tenantID + ":backup_agent_admin"}, wantExpires: 720 * time.Hour, wantBefore: 240 * time.Hour,
		},
		"ExpiresInOnly": {
			reason:      "renewBefore defaults to a third of expiresIn",
			spec:        func(s *v1.RegistrationTokenSpec) { s.ExpiresIn = &metav1.Duration{Duration: 90 * time.Minute} },
			wantScopes:  []string{AgentScope(tenantID)},
			wantExpires: 90 * time.Minute, wantBefore: 30 * time.Minute,
		},
		"Both": {
			reason: "the spec's values",
			spec: func(s *v1.RegistrationTokenSpec) {
				s.ExpiresIn, s.RenewBefore = &metav1.Duration{Duration: time.Minute}, &metav1.Duration{Duration: 45 * time.Second}
			},
			wantScopes:  []string{AgentScope(tenantID)},
			wantExpires: time.Minute, wantBefore: 45 * time.Second,
		},
		"Scopes": {
			reason:      "the spec's scopes as a set, sorted",
			spec:        func(s *v1.RegistrationTokenSpec) { s.Scopes = []string{"b", "a", "b"} },
			wantScopes:  []string{"a", "b"},
			wantExpires: 720 * time.Hour, wantBefore: 240 * time.Hour,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := tokenSpec(tc.spec)
			if diff := cmp.Diff(tc.wantScopes, wantScopes(obj, tenantID)); diff != "" {
				t.Errorf("%s: scopes (-want +got):\n%s", tc.reason, diff)
			}
			if got := expiresIn(obj); got != tc.wantExpires {
				t.Errorf("%s: expiresIn = %v, want %v", tc.reason, got, tc.wantExpires)
			}
			if got := renewBefore(obj); got != tc.wantBefore {
				t.Errorf("%s: renewBefore = %v, want %v", tc.reason, got, tc.wantBefore)
			}
		})
	}
}

func TestRenewAt(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		reason   string
		lifetime time.Duration
		before   time.Duration
		want     time.Time
	}{
		"Default": {"720h renewed 240h before: 480h after creation", 720 * time.Hour, 240 * time.Hour, created.Add(480 * time.Hour)},
		"Short":   {"1m renewed 45s before: 15s after creation", time.Minute, 45 * time.Second, created.Add(15 * time.Second)},
		"Floor":   {"renewBefore close to the lifetime: not sooner than a tenth of it", time.Minute, 59 * time.Second, created.Add(6 * time.Second)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := renewAt(created, created.Add(tc.lifetime), tc.before); !got.Equal(tc.want) {
				t.Errorf("%s: renewAt = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestPick(t *testing.T) {
	marker := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	scopes := []string{AgentScope(tenantID)}
	tok := func(id int64, created time.Time, lifetime time.Duration, scopes ...string) accountserver.RegistrationToken {
		return accountserver.RegistrationToken{ID: id, Token: "AAAA-BBBB-CCCC", CreatedAt: accountserver.NewTime(created),
			ExpiresAt: accountserver.NewTime(created.Add(lifetime)), Scopes: scopes}
	}
	hour := time.Hour
	cases := map[string]struct {
		reason string
		tokens []accountserver.RegistrationToken
		since  time.Time
		held   map[string]bool
		want   int64 // 0: none
	}{
		"Made after the marker": {"the token the lost create made", []accountserver.RegistrationToken{
			tok(1, marker.Add(-time.Hour), hour, scopes...), tok(2, marker.Add(time.Second), hour, scopes...)}, marker, nil, 2},
		"Made just before the marker": {"the server's clock may lag the operator's by up to a minute", []accountserver.RegistrationToken{
			tok(3, marker.Add(-30*time.Second), hour, scopes...)}, marker, nil, 3},
		"Made long before": {"an older token is not this create's", []accountserver.RegistrationToken{
			tok(4, marker.Add(-2*time.Minute), hour, scopes...)}, marker, nil, 0},
		"Held": {"a token another RegistrationToken holds (or this one is replacing) is not taken", []accountserver.RegistrationToken{
			tok(5, marker.Add(time.Second), hour, scopes...)}, marker, map[string]bool{"5": true}, 0},
		"Other scopes": {"a token with other scopes is someone else's", []accountserver.RegistrationToken{
			tok(6, marker.Add(time.Second), hour, "urn:other")}, marker, nil, 0},
		"Scopes in another order": {"scopes compare as a set", []accountserver.RegistrationToken{
			tok(7, marker.Add(time.Second), hour, scopes[0], scopes[0])}, marker, nil, 7},
		"Other lifetime": {"a token with another lifetime is someone else's", []accountserver.RegistrationToken{
			tok(8, marker.Add(time.Second), 2*hour, scopes...)}, marker, nil, 0},
		"Newest of several": {"of several candidates, the newest", []accountserver.RegistrationToken{
			tok(9, marker.Add(2*time.Second), hour, scopes...), tok(10, marker.Add(time.Second), hour, scopes...)}, marker, nil, 9},
		"No marker time": {"an unreadable marker matches any time", []accountserver.RegistrationToken{
			tok(11, marker.Add(-48*time.Hour), hour, scopes...)}, time.Time{}, nil, 11},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, found := pick(tc.tokens, tc.since, scopes, time.Hour, tc.held)
			var id int64
			if found {
				id = got.ID
			}
			if id != tc.want {
				t.Errorf("%s: picked %d, want %d", tc.reason, id, tc.want)
			}
		})
	}
}

func TestMarkerTime(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.UTC)
	obj := tokenSpec(nil)
	obj.Annotations = map[string]string{v1.AnnotationCreatePending: at.Format(time.RFC3339Nano)}
	if got := markerTime(obj); !got.Equal(at) {
		t.Errorf("markerTime = %v, want %v", got, at)
	}
	obj.Annotations[v1.AnnotationCreatePending] = "soon"
	if got := markerTime(obj); !got.IsZero() {
		t.Errorf("an unreadable marker: %v, want zero", got)
	}
}

func TestMustReplace(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e := &External{now: func() time.Time { return now }}
	fresh := func(created time.Time, lifetime time.Duration, scopes ...string) *remote {
		if scopes == nil {
			scopes = []string{AgentScope(tenantID)}
		}
		return &remote{id: "1", secret: secretOK, token: &accountserver.RegistrationToken{ID: 1, CreatedAt: accountserver.NewTime(created),
			ExpiresAt: accountserver.NewTime(created.Add(lifetime)), Scopes: scopes}}
	}
	changed := tokenSpec(nil)
	changed.Generation = 2
	changed.Status.ObservedGeneration = 1
	handled := changed.DeepCopy()
	handled.Status.ObservedGeneration = 2
	cases := map[string]struct {
		obj  *v1.RegistrationToken
		r    *remote
		want []string
	}{
		"Fresh":    {r: fresh(now.Add(-time.Hour), 720*time.Hour)},
		"Due":      {r: fresh(now.Add(-480*time.Hour), 720*time.Hour), want: []string{"the token is due for renewal"}},
		"Gone":     {r: &remote{id: "1", gone: true}, want: []string{"the token is no longer on the server"}},
		"Unlisted": {r: &remote{id: "1"}},
		"Missing": {r: func() *remote { r := fresh(now, 720*time.Hour); r.secret = secretMissing; return r }(),
			want: []string{"the Secret is missing"}},
		"Stale": {r: func() *remote { r := fresh(now, 720*time.Hour); r.secret = secretStale; return r }(),
			want: []string{"the Secret does not hold the current token"}},
		"Scopes":               {obj: changed, r: fresh(now, 720*time.Hour, "urn:other"), want: []string{"spec.scopes changed"}},
		"Lifetime":             {obj: changed, r: fresh(now, time.Hour), want: []string{"spec.expiresIn changed"}},
		"ServerRoundedScopes":  {obj: handled, r: fresh(now, 720*time.Hour, "urn:other")},
		"ServerCappedLifetime": {obj: handled, r: fresh(now, time.Hour)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := tc.obj
			if obj == nil {
				obj = handled
			}
			req := &request{Object: obj, Resolved: resolved{tenantID: tenantID}}
			if diff := cmp.Diff(tc.want, e.MustReplace(req, tc.r)); diff != "" {
				t.Errorf("MustReplace (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPollAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e := &External{now: func() time.Time { return now }}
	req := &request{Object: tokenSpec(nil)}
	tok := func(created time.Time) *remote {
		return &remote{id: "1", token: &accountserver.RegistrationToken{ID: 1, CreatedAt: accountserver.NewTime(created),
			ExpiresAt: accountserver.NewTime(created.Add(720 * time.Hour))}}
	}
	cases := map[string]struct {
		reason string
		r      *remote
		want   time.Duration
	}{
		"Fresh":    {"wakes at renewAt, 480h after creation", tok(now), 480 * time.Hour},
		"Later":    {"the time left until renewAt", tok(now.Add(-479 * time.Hour)), time.Hour},
		"Overdue":  {"never less than a second: no hot loop", tok(now.Add(-500 * time.Hour)), time.Second},
		"Unlisted": {"no token read: no wake of its own", &remote{id: "1"}, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := e.PollAfter(req, tc.r); got != tc.want {
				t.Errorf("%s: PollAfter = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}
