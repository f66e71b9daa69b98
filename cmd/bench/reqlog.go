package main

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// reqLog is a slice of the emulator's request log.
type reqLog []emulator.RequestRecord

const tokenPath = "/api/2/idp/token"

// writes are the requests that change the account server: every method
// but GET, token requests aside (they change nothing a client can read).
func (l reqLog) writes() reqLog {
	var out reqLog
	for _, r := range l {
		if r.Method != http.MethodGet && r.Path != tokenPath {
			out = append(out, r)
		}
	}
	return out
}

// opCount is how often one operation was sent.
type opCount struct {
	Op    string
	Count int
}

// ops counts the requests by operation ("GET /tenants/{id}"), most
// frequent first.
func (l reqLog) ops() []opCount {
	n := map[string]int{}
	for _, r := range l {
		n[r.Method+" "+harness.OperationPath(r.Path)]++
	}
	out := make([]opCount, 0, len(n))
	for op, c := range n {
		out = append(out, opCount{op, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Op < out[j].Op
	})
	return out
}

// topOps renders the n most frequent operations: "GET /tenants/{id} 412 (80%)".
func topOps(l reqLog, n int) string {
	if len(l) == 0 {
		return "none"
	}
	var parts []string
	for i, o := range l.ops() {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("`%s` %d (%.0f%%)", o.Op, o.Count, 100*float64(o.Count)/float64(len(l))))
	}
	return strings.Join(parts, ", ")
}

// firstPutAfter finds the first PUT of path at or after t.
func (l reqLog) firstPutAfter(path string, t time.Time) (time.Time, bool) {
	for _, r := range l {
		if r.Method == http.MethodPut && r.Path == path && !r.Time.Before(t) {
			return r.Time, true
		}
	}
	return time.Time{}, false
}

// objectsRead says when each object was first read, keyed by kind and
// remote id ("Tenant/<id>"): a Tenant by GET /tenants/{id} or as one of the
// uuids of a GET /tenants; a User by GET /users/{id} or in the uuids of a
// GET /users; an OfferingItemQuota (its id is its tenant's) by GET
// /tenants/{id}/offering_items or as one of the tenants whose items a GET
// /tenants/offering_items answered.
func objectsRead(l reqLog) map[string]time.Time {
	seen := map[string]time.Time{}
	note := func(kind, id string, t time.Time) {
		k := kind + "/" + id
		if old, ok := seen[k]; !ok || t.Before(old) {
			seen[k] = t
		}
	}
	for _, r := range l {
		if r.Method != http.MethodGet || r.Status != http.StatusOK {
			continue
		}
		switch rest, _ := strings.CutPrefix(r.Path, "/api/2/"); {
		case rest == "tenants/offering_items":
			for _, id := range r.Tenants {
				note(kindQuota, id, r.Time)
			}
		case strings.HasPrefix(rest, "tenants/") && strings.HasSuffix(rest, "/offering_items"):
			note(kindQuota, strings.TrimSuffix(strings.TrimPrefix(rest, "tenants/"), "/offering_items"), r.Time)
		case strings.HasPrefix(rest, "tenants/") && harness.LooksLikeID(strings.TrimPrefix(rest, "tenants/")):
			note(kindTenant, strings.TrimPrefix(rest, "tenants/"), r.Time)
		case strings.HasPrefix(rest, "users/") && harness.LooksLikeID(strings.TrimPrefix(rest, "users/")):
			note(kindUser, strings.TrimPrefix(rest, "users/"), r.Time)
		case rest == "tenants" || rest == "users":
			kind := kindTenant
			if rest == "users" {
				kind = kindUser
			}
			q, err := url.ParseQuery(r.Query)
			if err != nil {
				continue
			}
			for _, v := range q["uuids"] {
				for id := range strings.SplitSeq(v, ",") {
					if id = strings.TrimSpace(id); id != "" {
						note(kind, id, r.Time)
					}
				}
			}
		}
	}
	return seen
}

// percentile is the nearest-rank percentile p (0–100) of vs; +Inf values
// (never happened within the cap) sort last.
func percentile(vs []float64, p float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}
