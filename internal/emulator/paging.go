package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

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
