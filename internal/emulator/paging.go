package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// queryBool reads an optional boolean query parameter.
func queryBool(r *http.Request, name string) (bool, *apiError) {
	return boolParam(r.URL.Query(), name)
}

// boolParam is queryBool for a query that is not the request's own: a list continued by a cursor
// reads the cursor's query.
func boolParam(q url.Values, name string) (bool, *apiError) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errBadRequest("query parameter %s must be a boolean, got %q", name, v)
	}
	return b, nil
}

// queryVersion reads the version query parameter that deletes require.
func queryVersion(r *http.Request) (int64, *apiError) {
	v := r.URL.Query().Get("version")
	if v == "" {
		return 0, errBadRequest("query parameter version is required")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errBadRequest("query parameter version must be an integer, got %q", v)
	}
	return n, nil
}

// uuidList reads a required comma-separated list of UUIDs from a query parameter.
func uuidList(r *http.Request, name string) ([]string, *apiError) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, errBadRequest("query parameter %s is required", name)
	}
	var out []string
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if !validUUID(id) {
			return nil, errBadRequest("query parameter %s: %q is not a UUID", name, id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// csvList reads an optional comma-separated list of names from a query parameter.
func csvList(r *http.Request, name string) []string { return splitList(r.URL.Query().Get(name)) }

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// serveBatch answers a GET that names its objects in a list of ids (the query parameter param):
// each object read in the caller's scope and rendered; ids that name nothing are left out, an
// object out of scope refuses the whole request.
func serveBatch[T, V any](s *Server, w http.ResponseWriter, r *http.Request, param string,
	read func(callerInfo, string) (T, *apiError), render func(callerInfo, T) V) *apiError {
	c := s.caller(r)
	ids, e := uuidList(r, param)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []V{}
	for _, id := range ids {
		obj, e := read(c, id)
		if e != nil {
			if e.Status == http.StatusNotFound {
				continue
			}
			return e
		}
		items = append(items, render(c, obj))
	}
	return reply(w, http.StatusOK, map[string]any{"items": items})
}

// listQuery is what GET /tenants and GET /users share in their queries.
type listQuery struct {
	limit        int
	fields       []string
	since        time.Time
	allowDeleted bool
	uuids        []string
}

// parseListQuery reads limit, lod, updated_since, allow_deleted and uuids,
// and checks that the named ID filters are UUIDs.
func parseListQuery(q url.Values, defaultLimit int, stamps, basic []string, idFilters ...string) (listQuery, *apiError) {
	var lq listQuery
	var e *apiError
	if lq.limit, e = pageLimit(q, defaultLimit); e != nil {
		return lq, e
	}
	if lq.fields, e = lodFields(q.Get("lod"), stamps, basic); e != nil {
		return lq, e
	}
	if lq.since, e = parseSince(q.Get("updated_since")); e != nil {
		return lq, e
	}
	lq.allowDeleted = q.Get("allow_deleted") == "true"
	if v := q.Get("uuids"); v != "" {
		if lq.uuids, e = splitIDs("uuids", v); e != nil {
			return lq, e
		}
	}
	for _, name := range idFilters {
		if v := q.Get(name); v != "" && !validUUID(v) {
			return lq, errBadRequest("%s must be a lowercase UUID", name)
		}
	}
	return lq, nil
}

// exclusive refuses a query that sets more than one of names.
func exclusive(q map[string][]string, names ...string) *apiError {
	var set []string
	for _, n := range names {
		if v, ok := q[n]; ok && len(v) > 0 && v[0] != "" {
			set = append(set, n)
		}
	}
	if len(set) > 1 {
		return errBadRequest("%s are mutually exclusive", strings.Join(set, " and "))
	}
	return nil
}

// splitIDs reads a comma-separated id list of at most 100 lowercase UUIDs.
func splitIDs(name, v string) ([]string, *apiError) {
	var out []string
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if !validUUID(id) {
			return nil, errBadRequest("%s: %q is not a lowercase UUID", name, id)
		}
		out = append(out, id)
	}
	if len(out) > 100 {
		return nil, errBadRequest("%s takes at most 100 ids, got %d", name, len(out))
	}
	return out, nil
}

func parseSince(v string) (time.Time, *apiError) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := parseTime(v)
	if err != nil {
		return time.Time{}, errBadRequest("updated_since: %v", err)
	}
	return t, nil
}

// updatedSince keeps objects changed at or after since; "at" too, so a client that passes the
// previous answer's timestamp never misses a change made in the same instant.
func updatedSince(updatedAt string, since time.Time) bool {
	if since.IsZero() {
		return true
	}
	t, err := parseTime(updatedAt)
	return err == nil && !t.Before(since)
}

// lodFields tells which keys a level of detail keeps; nil means all.
func lodFields(lod string, stamps, basic []string) ([]string, *apiError) {
	switch lod {
	case "", "full":
		return nil, nil
	case "stamps":
		return stamps, nil
	case "basic":
		return basic, nil
	}
	return nil, errBadRequest("lod must be stamps, basic or full, got %q", lod)
}

// project renders v as a JSON object keeping only fields (all when nil).
func project(v any, fields []string) map[string]any {
	data, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	if fields == nil {
		return m
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if val, ok := m[f]; ok {
			out[f] = val
		}
	}
	return out
}

// pageCursor is what the opaque `after` cursor carries: the query of the first page (so the cursor
// alone fetches the next one) and the sort key of the last item served.
type pageCursor struct {
	Query url.Values `json:"q"`
	Last  string     `json:"k"`
}

func encodeCursor(c pageCursor) string {
	data, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(data)
}

// pageQuery returns the effective query of a list request: the cursor's when `after` is given (an
// explicit `limit` still wins), else the request's own. last is the key to continue after.
func pageQuery(r *http.Request) (q url.Values, last string, e *apiError) {
	q = r.URL.Query()
	after := q.Get("after")
	if after == "" {
		return q, "", nil
	}
	data, err := base64.RawURLEncoding.DecodeString(after)
	var c pageCursor
	if err != nil || json.Unmarshal(data, &c) != nil || c.Query == nil {
		return nil, "", errBadRequest("the after cursor is malformed")
	}
	if l := q.Get("limit"); l != "" {
		c.Query.Set("limit", l)
	}
	return c.Query, c.Last, nil
}

// pageLimit reads `limit` (at least 1) with the endpoint's default.
func pageLimit(q url.Values, def int) (int, *apiError) {
	v := q.Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errBadRequest("limit must be an integer of at least 1, got %q", v)
	}
	return n, nil
}

// Paging is the paging block of batch answers.
type Paging struct {
	Cursors Cursors `json:"cursors"`
}

// Cursors holds the cursor of the next page; empty on the last page.
type Cursors struct {
	After string `json:"after,omitempty"`
}

// paginate cuts one page out of items, which must be sorted by key ascending, continuing after last.
func paginate[T any](items []T, key func(T) string, q url.Values, last string, limit int) ([]T, Paging) {
	start := 0
	if last != "" {
		for start < len(items) && key(items[start]) <= last {
			start++
		}
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	var p Paging
	if end < len(items) && len(page) > 0 {
		cq := url.Values{}
		for k, v := range q {
			if k != "after" {
				cq[k] = v
			}
		}
		p.Cursors.After = encodeCursor(pageCursor{Query: cq, Last: key(page[len(page)-1])})
	}
	return page, p
}
