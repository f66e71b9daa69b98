package accountserver

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTimeUnmarshal(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   time.Time
		err    bool
	}{
		"NoZone":     {reason: "the server's usual form is UTC without a zone", in: `"2016-06-22T18:25:16"`, want: time.Date(2016, 6, 22, 18, 25, 16, 0, time.UTC)},
		"Fraction":   {reason: "fractional seconds without a zone", in: `"2016-06-22T18:25:16.807354"`, want: time.Date(2016, 6, 22, 18, 25, 16, 807354000, time.UTC)},
		"Offset":     {reason: "a numeric offset", in: `"2019-07-25T07:11:02.807354+00:00"`, want: time.Date(2019, 7, 25, 7, 11, 2, 807354000, time.UTC)},
		"OtherZone":  {reason: "a non-UTC offset", in: `"2019-07-25T09:11:02+02:00"`, want: time.Date(2019, 7, 25, 7, 11, 2, 0, time.UTC)},
		"Z":          {reason: "RFC 3339 with Z", in: `"2019-07-25T07:11:02Z"`, want: time.Date(2019, 7, 25, 7, 11, 2, 0, time.UTC)},
		"DateOnly":   {reason: "dates appear for some fields", in: `"2017-05-08"`, want: time.Date(2017, 5, 8, 0, 0, 0, 0, time.UTC)},
		"Null":       {reason: "null is the zero time", in: `null`},
		"Empty":      {reason: "an empty string is the zero time", in: `""`},
		"Garbage":    {reason: "anything else is an error", in: `"yesterday"`, err: true},
		"NotAString": {reason: "a number is not a timestamp", in: `12`, err: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got Time
			err := json.Unmarshal([]byte(tc.in), &got)
			if (err != nil) != tc.err {
				t.Fatalf("%s: err = %v, want error %v", tc.reason, err, tc.err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("%s: got %s, want %s", tc.reason, got, tc.want)
			}
		})
	}
}

func TestTimeMarshal(t *testing.T) {
	got, _ := json.Marshal(struct {
		A Time  `json:"a"`
		B *Time `json:"b,omitempty"`
		C Time  `json:"c"`
	}{A: NewTime(time.Date(2017, 6, 22, 18, 25, 16, 0, time.UTC))})
	if diff := cmp.Diff(`{"a":"2017-06-22T18:25:16+00:00","c":null}`, string(got)); diff != "" {
		t.Errorf("the server's input pattern has an offset and no Z (-want +got):\n%s", diff)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		in   string
		want time.Duration
	}{
		"Seconds":  {in: "2", want: 2 * time.Second},
		"Zero":     {in: "0", want: 0},
		"Negative": {in: "-5", want: 0},
		"Date":     {in: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		"PastDate": {in: now.Add(-time.Hour).Format(http.TimeFormat), want: 0},
		"Missing":  {in: "", want: 0},
		"Garbage":  {in: "soon", want: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, parseRetryAfter(tc.in, now)); diff != "" {
				t.Errorf("parseRetryAfter(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestRequestPath(t *testing.T) {
	cases := map[string]struct {
		reason string
		route  string
		args   []string
		want   string
		err    bool
	}{
		"Plain":    {reason: "placeholders are filled in order", route: "/applications/{app}/bindings/tenants/{tenant}", args: []string{"a", "b"}, want: "/applications/a/bindings/tenants/b"},
		"Escaped":  {reason: "an argument cannot add path segments", route: "/tenants/{id}", args: []string{"../clients"}, want: "/tenants/..%2Fclients"},
		"Dots":     {reason: "a relative segment is refused", route: "/tenants/{id}", args: []string{".."}, err: true},
		"Empty":    {reason: "an empty ID would hit the collection", route: "/tenants/{id}", args: []string{""}, err: true},
		"TooFew":   {reason: "every placeholder needs an argument", route: "/tenants/{id}", err: true},
		"TooMany":  {reason: "arguments must all be used", route: "/tenants", args: []string{"x"}, err: true},
		"NoParams": {reason: "a fixed route", route: "/search", want: "/search"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := (&request{route: tc.route, args: tc.args}).path()
			if (err != nil) != tc.err {
				t.Fatalf("%s: err = %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	c := &Client{}
	for attempt := 1; attempt <= 12; attempt++ {
		full := min(backoffBase<<(attempt-1), backoffMax)
		for range 50 {
			d := c.backoff(attempt)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, full/2, full)
			}
		}
	}
}
