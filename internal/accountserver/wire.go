package accountserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Time is a server timestamp. The server writes RFC 3339, often without a zone
// ("2016-06-22T18:25:16", taken as UTC), sometimes with fractional seconds or an offset,
// and dates alone for some fields.
type Time struct {
	time.Time
}

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{Time: t} }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime reads any of the timestamp forms the server writes.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}

// UnmarshalJSON implements json.Unmarshaler; null and "" are the zero time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// wireTimeLayout matches the server's input pattern, which has a numeric offset and no "Z".
const wireTimeLayout = "2006-01-02T15:04:05-07:00"

// MarshalJSON implements json.Marshaler; the zero time is null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(wireTimeLayout))
}

// Secret is a credential the server hands out (an API client's secret). It prints, logs and
// marshals as "[REDACTED]"; string(s) is the value.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter so no verb prints the value.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalLog implements logr.Marshaler.
func (Secret) MarshalLog() any { return redacted }

// MarshalJSON keeps the value out of JSON logs and dumps; the client never sends a Secret.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// UnmarshalJSON reads the value.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Secret(v)
	return nil
}

// page is one page of a cursor-paged list.
type page[T any] struct {
	Timestamp string `json:"timestamp,omitempty"`
	Items     []T    `json:"items"`
	Paging    struct {
		Cursors struct {
			After string `json:"after,omitempty"`
		} `json:"cursors"`
	} `json:"paging"`
}

// items is the {"items":[…]} envelope of unpaged lists.
type items[T any] struct {
	Items []T `json:"items"`
}
