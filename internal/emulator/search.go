package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// SearchResult is one item of GET /search.
type SearchResult struct {
	ObjType  string   `json:"obj_type"`
	ID       string   `json:"id"`
	ParentID string   `json:"parent_id"`
	Path     []string `json:"path"`
	Name     string   `json:"name,omitempty"`
	Login    string   `json:"login,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Email    string   `json:"email,omitempty"`
	Enabled  bool     `json:"enabled"`
	TenantID string   `json:"tenant_id,omitempty"`
}

// SearchResults is the answer of GET /search.
type SearchResults struct {
	Items []SearchResult `json:"items"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	tenantID, text := q.Get("tenant"), strings.TrimSpace(q.Get("text"))
	switch {
	case tenantID == "":
		return errBadRequest("tenant is required")
	case text == "":
		return errBadRequest("text is required")
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errBadRequest("limit must be a positive integer, got %q", v)
		}
		limit = n
	}
	allowDeleted, e := queryBool(r, "allow_deleted")
	if e != nil {
		return e
	}
	needle := strings.ToLower(text)
	match := func(fields ...string) bool {
		return slices.ContainsFunc(fields, func(f string) bool { return f != "" && strings.Contains(strings.ToLower(f), needle) })
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	root, e := s.lookupTenant(s.caller(r), tenantID, false)
	if e != nil {
		return e
	}
	tree := s.subtree(root.ID, allowDeleted)
	inTree := map[string]bool{}
	for _, t := range tree {
		inTree[t.ID] = true
	}
	out := SearchResults{Items: []SearchResult{}}
	for _, t := range tree {
		if len(out.Items) >= limit {
			break
		}
		customerID := ""
		if t.CustomerID != nil {
			customerID = *t.CustomerID
		}
		if match(t.Name, customerID, t.Contact.Firstname, t.Contact.Lastname, t.Contact.Email) {
			out.Items = append(out.Items, SearchResult{
				ObjType: "tenant", ID: t.ID, ParentID: t.ParentID, Path: s.pathNames(root.ID, t.ParentID, t.ID == root.ID),
				Name: t.Name, Kind: t.Kind, Email: t.Contact.Email, Enabled: t.Enabled,
			})
		}
	}
	for _, u := range s.usersWhere(func(u *User) bool { return inTree[u.TenantID] }, allowDeleted) {
		if len(out.Items) >= limit {
			break
		}
		if match(u.Login, u.Contact.Email, u.Contact.Firstname, u.Contact.Lastname) {
			out.Items = append(out.Items, SearchResult{
				ObjType: "user", ID: u.ID, ParentID: u.TenantID, Path: s.pathNames(root.ID, u.TenantID, false),
				Name: strings.TrimSpace(u.Contact.Firstname + " " + u.Contact.Lastname), Login: u.Login,
				Email: u.Contact.Email, Enabled: u.Enabled, TenantID: u.TenantID,
			})
		}
	}
	return reply(w, http.StatusOK, out)
}

// pathNames lists tenant names from the search root down to id, which is how a result is located
// for a person reading it. Call with s.mu held.
func (s *Server) pathNames(rootID, id string, isRoot bool) []string {
	if isRoot {
		return []string{}
	}
	var names []string
	for range 1000 {
		t, ok := s.st.Tenants[id]
		if !ok {
			break
		}
		names = append(names, t.Name)
		if t.ID == rootID || t.ParentID == t.ID {
			break
		}
		id = t.ParentID
	}
	slices.Reverse(names)
	return names
}
