package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// This file holds the analyses of the figures: pure functions of what the
// run collected (the emulator's state and request log, the manager's log,
// the Kubernetes objects), unit-tested in analysis_test.go.

// remoteObject is one object on the account server, as far as twins and
// leaks go.
type remoteObject struct {
	Kind string // Tenant or User
	ID   string
	// Key is what makes the object one of a kind: a tenant's parent and
	// name, a user's login. Two live objects with one key are twins.
	Key     string
	Deleted bool
}

// remoteObjects lists the live and deleted tenants below root and the
// users of those tenants. Left out are root itself and the personal
// tenants the server makes for each user of a customer (the user's
// personal_tenant_id): they come and go with their user.
func remoteObjects(root string, tenants []emulator.Tenant, users []emulator.User) []remoteObject {
	personal := map[string]bool{}
	for _, u := range users {
		if u.PersonalTenantID != nil {
			personal[*u.PersonalTenantID] = true
		}
	}
	parent := map[string]string{}
	for _, t := range tenants {
		parent[t.ID] = t.ParentID
	}
	below := func(id string) bool {
		for range 100 {
			p, ok := parent[id]
			if !ok || p == id {
				return false
			}
			if p == root {
				return true
			}
			id = p
		}
		return false
	}
	var out []remoteObject
	in := map[string]bool{}
	for _, t := range tenants {
		if t.ID == root || personal[t.ID] || !below(t.ID) {
			continue
		}
		in[t.ID] = true
		out = append(out, remoteObject{Kind: kindTenant, ID: t.ID, Key: t.ParentID + "/" + t.Name, Deleted: t.DeletedAt != nil})
	}
	for _, u := range users {
		if u.TenantID != root && !in[u.TenantID] {
			continue
		}
		out = append(out, remoteObject{Kind: kindUser, ID: u.ID, Key: u.Login, Deleted: u.DeletedAt != nil})
	}
	return out
}

// twin is a key that more than one live remote object has.
type twin struct {
	Kind, Key string
	IDs       []string
}

// findTwins returns the keys held by more than one live object, sorted by
// kind and key. Deleted objects are no twins: they are gone.
func findTwins(objs []remoteObject) []twin {
	ids := map[[2]string][]string{}
	for _, o := range objs {
		if o.Deleted {
			continue
		}
		k := [2]string{o.Kind, o.Key}
		ids[k] = append(ids[k], o.ID)
	}
	var out []twin
	for k, v := range ids {
		if len(v) > 1 {
			sort.Strings(v)
			out = append(out, twin{Kind: k[0], Key: k[1], IDs: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// extraCopies counts the objects twins add: a key held three times is two.
func extraCopies(ts []twin) int {
	n := 0
	for _, t := range ts {
		n += len(t.IDs) - 1
	}
	return n
}

// findLeaks returns the live remote objects whose ID no Kubernetes object
// holds in status.id (owned): made by the operator and then forgotten. A
// twin's second copy is a leak too.
func findLeaks(objs []remoteObject, owned map[string]bool) []remoteObject {
	var out []remoteObject
	for _, o := range objs {
		if !o.Deleted && !owned[o.ID] {
			out = append(out, o)
		}
	}
	return out
}

// countKinds renders objects by kind: "3 (Tenant 2, User 1)", or "0".
func countKinds(objs []remoteObject) string {
	if len(objs) == 0 {
		return "0"
	}
	n := map[string]int{}
	for _, o := range objs {
		n[o.Kind]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
	}
	return fmt.Sprintf("%d (%s)", len(objs), strings.Join(parts, ", "))
}

// pauseMessage is what internal/accountserver logs when a 429 pauses the
// connection (Client.pause): the moment the answer arrived, and for how
// long the server asked it to wait.
const pauseMessage = "account server asked to slow down; pausing the connection"

// pause is one Retry-After a manager process honours: from At, when it
// logged the 429's arrival, for For, but not beyond End, when the process
// died (a new process knows nothing of the old one's pauses).
type pause struct {
	At  time.Time
	For time.Duration
	End time.Time
}

func (p pause) until() time.Time {
	u := p.At.Add(p.For)
	if !p.End.IsZero() && p.End.Before(u) {
		return p.End
	}
	return u
}

// parsePauses reads the pauses out of a manager's JSON log (started with
// --zap-time-encoding=rfc3339nano, so every line has the time to the
// nanosecond); end is when the process died. Lines that are not JSON (the
// command line, klog's) are skipped.
func parsePauses(r io.Reader, end time.Time) ([]pause, error) {
	var out []pause
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' || !strings.Contains(string(line), pauseMessage) {
			continue
		}
		var e struct {
			TS         string          `json:"ts"`
			Msg        string          `json:"msg"`
			RetryAfter json.RawMessage `json:"retryAfter"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("log line %.200s: %w", line, err)
		}
		if e.Msg != pauseMessage {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, e.TS)
		if err != nil {
			return nil, fmt.Errorf("log line %.200s: the time %q is not RFC 3339 (start the manager with --zap-time-encoding=rfc3339nano): %w", line, e.TS, err)
		}
		d, err := logDuration(e.RetryAfter)
		if err != nil {
			return nil, fmt.Errorf("log line %.200s: retryAfter: %w", line, err)
		}
		out = append(out, pause{At: at, For: d, End: end})
	}
	return out, sc.Err()
}

// logDuration reads a duration as zap writes it: seconds as a number
// (production) or a Go duration string (development).
func logDuration(raw json.RawMessage) (time.Duration, error) {
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("%s is neither seconds nor a duration", raw)
	}
	return time.ParseDuration(s)
}

// violation is a request the emulator received while its sender had been
// asked to wait.
type violation struct {
	Request emulator.RequestRecord
	Pause   pause
}

// retryAfterViolations returns the requests of reqs (one connection's,
// one process at a time) that arrived inside a pause: later than slack
// after the 429 arrived, and earlier than slack before the pause ended.
// The slack leaves out requests that were already on their way when the
// 429 arrived (the emulator stamps a request when it starts serving it,
// which may be a little after the client sent it) and clock noise at the
// end; slack 0 counts strictly.
func retryAfterViolations(pauses []pause, reqs []emulator.RequestRecord, slack time.Duration) []violation {
	var out []violation
	for _, r := range reqs {
		for _, p := range pauses {
			from, to := p.At.Add(slack), p.until().Add(-slack)
			if r.Time.After(from) && r.Time.Before(to) {
				out = append(out, violation{Request: r, Pause: p})
				break
			}
		}
	}
	return out
}

// answered counts the requests answered with status.
func answered(reqs []emulator.RequestRecord, status int) int {
	n := 0
	for _, r := range reqs {
		if r.Status == status {
			n++
		}
	}
	return n
}

// dropped counts the committed writes whose answer was never sent.
func dropped(reqs []emulator.RequestRecord) int {
	n := 0
	for _, r := range reqs {
		if r.Dropped {
			n++
		}
	}
	return n
}

// activationEmails counts, per user id, the activation emails the server
// sent: POST /users/{id}/send-activation-email answered 2xx, whether the
// answer reached the client or was dropped (the mail went either way).
// received counts every such request, refused ones too.
func activationEmails(reqs []emulator.RequestRecord) (sent map[string]int, received int) {
	sent = map[string]int{}
	for _, r := range reqs {
		id, ok := activationUser(r)
		if !ok {
			continue
		}
		received++
		if r.Status >= 200 && r.Status < 300 {
			sent[id]++
		}
	}
	return sent, received
}

func activationUser(r emulator.RequestRecord) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.Path, "/api/2/users/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/send-activation-email")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// overOnce lists the users sent more than one email, sorted.
func overOnce(sent map[string]int) []string {
	var out []string
	for id, n := range sent {
		if n > 1 {
			out = append(out, id+" ("+strconv.Itoa(n)+")")
		}
	}
	sort.Strings(out)
	return out
}

// lost compares what must be on the server (want, by object) with what
// is (got): the objects whose value differs or is missing, sorted.
func lost(want, got map[string]string) []string {
	var out []string
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// peakInWindow is the most times that fall into any window of length w
// (a sliding window, its start at one of the times), and where it starts.
func peakInWindow(times []time.Time, w time.Duration) (int, time.Time) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, at := 0, time.Time{}
	j := 0
	for i := range ts {
		for j < len(ts) && ts[j].Before(ts[i].Add(w)) {
			j++
		}
		if j-i > best {
			best, at = j-i, ts[i]
		}
	}
	return best, at
}

// requestTimes are the arrival times of reqs in [from, to).
func requestTimes(reqs []emulator.RequestRecord, from, to time.Time) []time.Time {
	var out []time.Time
	for _, r := range reqs {
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r.Time)
		}
	}
	return out
}

// writeCounts summarises per-object writes: how many objects were
// written, the most writes one object got, and the total.
func writeCounts(perObject map[string]int) (objects, most, total int) {
	for _, n := range perObject {
		if n == 0 {
			continue
		}
		objects++
		total += n
		most = max(most, n)
	}
	return objects, most, total
}
