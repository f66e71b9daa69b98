// Package wire holds the official wire schemas of the account server's API (/api/2) and checks
// requests and responses against them.
//
// The files in schemas/ are the structural part of the vendor's official OpenAPI document for the
// Account Management API v2, one file per operation (see schemas/README.md for where they come
// from and how they were transcribed). The emulator refuses every request they refuse, the client's
// conformance test builds every request the client can send and checks it here, and the emulator's
// own tests check every answer it gives.
package wire

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// Operation is one method and path of the API with its compiled schemas.
type Operation struct {
	Method string
	// Path is the template relative to /api/2, e.g. "/tenants/{tenant_id}".
	Path string
	// RequestContentType is the media type of the request body, "" when the operation takes none.
	RequestContentType string

	segments      []string
	pathParams    map[string]param
	query         map[string]param
	queryRequired []string
	querySchema   *jsonschema.Schema
	pathSchema    *jsonschema.Schema
	request       *jsonschema.Schema // nil: no body, or any bytes (image/png)
	responses     map[int]*jsonschema.Schema
	declared      map[int]bool
	responseCT    map[int]string
	headers       map[string]param
}

// param is a query, path or header parameter's declared type.
type param struct {
	Type     string
	Required bool
}

// Spec is every operation of the API.
type Spec struct {
	ops   []*Operation
	error *jsonschema.Schema
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Load compiles the embedded schemas once and returns them.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = compile(schemaFS) })
	return loaded, loadErr
}

// MustLoad is Load for callers that cannot go on without the schemas (they are embedded, so a
// failure is a build defect, found by the package's tests).
func MustLoad() *Spec {
	s, err := Load()
	if err != nil {
		panic(err)
	}
	return s
}

// schemaFile is the format of one file in schemas/.
type schemaFile struct {
	Method               string                     `json:"method"`
	Path                 string                     `json:"path"`
	PathParams           map[string]map[string]any  `json:"pathParams"`
	Query                map[string]map[string]any  `json:"query"`
	Headers              map[string]map[string]any  `json:"headers"`
	RequestContentType   *string                    `json:"requestContentType"`
	Request              json.RawMessage            `json:"request"`
	Responses            map[string]json.RawMessage `json:"responses"`
	ResponseContentTypes map[string]*string         `json:"responseContentTypes"`
}

func compile(fsys fs.FS) (*Spec, error) {
	names, err := fs.Glob(fsys, "schemas/*.json")
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	spec := &Spec{}
	add := func(url string, raw []byte) (*jsonschema.Schema, error) {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", url, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
		return c.Compile(url)
	}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		base := "mem://wire/" + strings.TrimSuffix(path.Base(name), ".json")
		if path.Base(name) == "_error.json" {
			if spec.error, err = add(base+".json", raw); err != nil {
				return nil, err
			}
			continue
		}
		var f schemaFile
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		op := &Operation{
			Method:     f.Method,
			Path:       f.Path,
			segments:   strings.Split(strings.Trim(f.Path, "/"), "/"),
			responses:  map[int]*jsonschema.Schema{},
			declared:   map[int]bool{},
			responseCT: map[int]string{},
		}
		if f.RequestContentType != nil {
			op.RequestContentType = *f.RequestContentType
		}
		var qs, ps []byte
		op.query, op.queryRequired, qs = paramSchema(f.Query)
		if op.querySchema, err = add(base+"/query.json", qs); err != nil {
			return nil, err
		}
		op.pathParams, _, ps = paramSchema(corrected(f.Method, f.Path, f.PathParams))
		if op.pathSchema, err = add(base+"/path.json", ps); err != nil {
			return nil, err
		}
		op.headers, _, _ = paramSchema(f.Headers)
		if len(f.Request) > 0 && !bytes.Equal(f.Request, []byte("null")) && !bytes.Equal(f.Request, []byte("{}")) {
			if op.request, err = add(base+"/request.json", f.Request); err != nil {
				return nil, err
			}
		}
		for code, body := range f.Responses {
			n, err := strconv.Atoi(code)
			if err != nil {
				return nil, fmt.Errorf("%s: response code %q: %w", name, code, err)
			}
			op.declared[n] = true
			if ct := f.ResponseContentTypes[code]; ct != nil {
				op.responseCT[n] = *ct
			}
			if len(body) == 0 || bytes.Equal(body, []byte("null")) || bytes.Equal(body, []byte("{}")) {
				continue
			}
			if op.responses[n], err = add(fmt.Sprintf("%s/response-%d.json", base, n), body); err != nil {
				return nil, err
			}
		}
		spec.ops = append(spec.ops, op)
	}
	if spec.error == nil {
		return nil, errors.New("wire: _error.json is missing")
	}
	sort.Slice(spec.ops, func(i, j int) bool {
		if spec.ops[i].Path != spec.ops[j].Path {
			return spec.ops[i].Path < spec.ops[j].Path
		}
		return spec.ops[i].Method < spec.ops[j].Method
	})
	return spec, nil
}

// paramSchema turns the file's parameter map into an object schema over the parameters' typed
// values: their own schemas minus the OpenAPI-style "required" flag, which moves to the object.
func paramSchema(params map[string]map[string]any) (map[string]param, []string, []byte) {
	out := map[string]param{}
	props := map[string]any{}
	var required []string
	for name, p := range params {
		cp := map[string]any{}
		for k, v := range p {
			if k != "required" {
				cp[k] = v
			}
		}
		req, _ := p["required"].(bool)
		if req {
			required = append(required, name)
		}
		t, _ := p["type"].(string)
		out[name] = param{Type: t, Required: req}
		props[name] = cp
	}
	sort.Strings(required)
	doc := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		doc["required"] = required
	}
	raw, _ := json.Marshal(doc)
	return out, required, raw
}

// Operations lists every operation, sorted by path then method.
func (s *Spec) Operations() []*Operation { return slices.Clone(s.ops) }

// Lookup finds the operation with exactly this method and template path.
func (s *Spec) Lookup(method, template string) *Operation {
	for _, op := range s.ops {
		if op.Method == method && op.Path == template {
			return op
		}
	}
	return nil
}

// Match finds the operation for a concrete request path relative to /api/2 (for example
// "/tenants/3f…/offering_items") and returns its path parameters. A literal segment wins over a
// parameter, so "/tenants/usages" is not taken for "/tenants/{tenant_id}".
func (s *Spec) Match(method, p string) (*Operation, map[string]string) {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	var best *Operation
	bestLiterals := -1
	for _, op := range s.ops {
		if op.Method != method || len(op.segments) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, t := range op.segments {
			if isParam(t) {
				continue
			}
			if t != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = op, literals
		}
	}
	if best == nil {
		return nil, nil
	}
	params := map[string]string{}
	for i, t := range best.segments {
		if isParam(t) {
			params[strings.Trim(t, "{}")] = segs[i]
		}
	}
	return best, params
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// String is "METHOD /path".
func (o *Operation) String() string { return o.Method + " " + o.Path }

// QueryParams lists the query parameters the operation declares.
func (o *Operation) QueryParams() []string {
	names := make([]string, 0, len(o.query))
	for n := range o.query {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RequiredQuery lists the query parameters the operation requires.
func (o *Operation) RequiredQuery() []string { return slices.Clone(o.queryRequired) }

// HasRequestBody says whether the operation takes a body.
func (o *Operation) HasRequestBody() bool { return o.RequestContentType != "" }

// RequestSchema is the compiled body schema, nil when the body is free (or absent).
func (o *Operation) RequestSchema() *jsonschema.Schema { return o.request }

// Declares says whether the official document lists this response status for the operation.
func (o *Operation) Declares(status int) bool { return o.declared[status] }

// Violation is a request or response that the official schema refuses. Field names the
// offending place ("query.limit", "body.offering_items[0].quota.version", "path.tenant_id",
// "header.Content-Type"); Problem says what is wrong with it in plain words.
type Violation struct {
	Field   string
	Problem string
	// Unsupported is set when the content type itself is wrong (the server answers 415).
	UnsupportedMediaType bool
}

func (v *Violation) Error() string { return v.Field + ": " + v.Problem }

// Request is what ValidateRequest looks at.
type Request struct {
	PathParams  map[string]string
	Query       url.Values
	Header      map[string]string // only the headers an operation declares are looked at
	ContentType string
	Body        []byte
}

// ValidateRequest checks a request against the operation's path, query and body schemas. It
// returns the first violation found, nil when the request is well formed.
func (o *Operation) ValidateRequest(r Request) *Violation {
	if v := o.validateParams("path", o.pathSchema, o.pathParams, singleValues(r.PathParams)); v != nil {
		return v
	}
	if v := o.validateParams("query", o.querySchema, o.query, r.Query); v != nil {
		return v
	}
	for name, p := range o.headers {
		// Authorization's pattern in the official document refuses RFC 7617 Basic credentials
		// whose base64 has no padding; real clients send those, so only Content-Length is checked.
		if !strings.EqualFold(name, "Content-Length") {
			continue
		}
		if _, ok := r.Header[name]; p.Required && !ok {
			return &Violation{Field: "header." + name, Problem: "is required"}
		}
	}
	if !o.HasRequestBody() {
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.ContentType)
	if r.ContentType == "" || err != nil || !strings.EqualFold(mt, o.RequestContentType) {
		return &Violation{Field: "header.Content-Type", UnsupportedMediaType: true,
			Problem: fmt.Sprintf("must be %s, got %q", o.RequestContentType, r.ContentType)}
	}
	if o.request == nil {
		return nil
	}
	var inst any
	switch o.RequestContentType {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			return &Violation{Field: "body", Problem: "is not a valid form: " + err.Error()}
		}
		inst, err = typedValues(form, formTypes(o.request))
		if err != nil {
			var v *Violation
			if errors.As(err, &v) {
				v.Field = "body." + v.Field
				return v
			}
			return &Violation{Field: "body", Problem: err.Error()}
		}
	default:
		if len(bytes.TrimSpace(r.Body)) == 0 {
			return &Violation{Field: "body", Problem: "is required"}
		}
		inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
		if err != nil {
			return &Violation{Field: "body", Problem: "is not valid JSON: " + err.Error()}
		}
	}
	if err := o.request.Validate(inst); err != nil {
		return violation("body", err)
	}
	return nil
}

// formTypes reads the declared types of a form body's fields from its schema (booleans travel as
// "true"/"false").
func formTypes(s *jsonschema.Schema) map[string]param {
	out := map[string]param{}
	for name, p := range s.Properties {
		t := ""
		if p.Types != nil {
			if ts := p.Types.ToStrings(); len(ts) > 0 {
				t = ts[0]
			}
		}
		out[name] = param{Type: t}
	}
	return out
}

func singleValues(m map[string]string) url.Values {
	v := url.Values{}
	for k, s := range m {
		v.Set(k, s)
	}
	return v
}

func (o *Operation) validateParams(where string, sch *jsonschema.Schema, declared map[string]param, values url.Values) *Violation {
	inst, err := typedValues(values, declared)
	if err != nil {
		var v *Violation
		if errors.As(err, &v) {
			v.Field = where + "." + v.Field
			return v
		}
		return &Violation{Field: where, Problem: err.Error()}
	}
	if err := sch.Validate(inst); err != nil {
		return violation(where, err)
	}
	return nil
}

// typedValues converts string parameters to the JSON types their schemas name, as a server's
// parameter binding does. Parameters the operation does not declare are left out: the server
// ignores them.
func typedValues(values url.Values, declared map[string]param) (map[string]any, error) {
	out := map[string]any{}
	for name, vs := range values {
		p, ok := declared[name]
		if !ok || len(vs) == 0 {
			continue
		}
		s := vs[len(vs)-1]
		switch p.Type {
		case "integer":
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, &Violation{Field: name, Problem: fmt.Sprintf("must be an integer, got %q", s)}
			}
			out[name] = json.Number(strconv.FormatInt(n, 10))
		case "number":
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				return nil, &Violation{Field: name, Problem: fmt.Sprintf("must be a number, got %q", s)}
			}
			out[name] = json.Number(s)
		case "boolean":
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, &Violation{Field: name, Problem: fmt.Sprintf("must be true or false, got %q", s)}
			}
			out[name] = b
		default:
			out[name] = s
		}
	}
	return out, nil
}

// ResponseCheck says how a response relates to the official document.
type ResponseCheck int

const (
	// ResponseValid: the status is declared and the body matches its schema.
	ResponseValid ResponseCheck = iota
	// ResponseUndeclared: the document does not list this status for the operation; the body was
	// checked against the common error body instead.
	ResponseUndeclared
)

// ValidateResponse checks a response's content type and body against the schema of its status.
// A status the document does not declare is reported as ResponseUndeclared after its body was
// checked against the common error body (_error.json); whether such a status is acceptable is the
// caller's decision.
func (o *Operation) ValidateResponse(status int, contentType string, body []byte) (ResponseCheck, error) {
	if !o.declared[status] {
		if status == 204 || status == 304 {
			return ResponseUndeclared, nil
		}
		return ResponseUndeclared, o.spec().validateJSON(o.spec().error, contentType, body, "application/json")
	}
	sch := o.responses[status]
	want := o.responseCT[status]
	if want == "" {
		if len(bytes.TrimSpace(body)) > 0 && sch == nil {
			return ResponseValid, &Violation{Field: "body", Problem: fmt.Sprintf("status %d has no body in the official document", status)}
		}
	}
	if sch == nil {
		if want != "" && want != "application/json" && len(body) > 0 {
			if mt, _, _ := mime.ParseMediaType(contentType); !strings.EqualFold(mt, want) {
				return ResponseValid, &Violation{Field: "header.Content-Type", Problem: fmt.Sprintf("must be %s, got %q", want, contentType)}
			}
		}
		return ResponseValid, nil
	}
	return ResponseValid, o.spec().validateJSON(sch, contentType, body, "application/json")
}

// spec is the loaded Spec (an operation belongs to the one embedded Spec).
func (o *Operation) spec() *Spec { return MustLoad() }

func (s *Spec) validateJSON(sch *jsonschema.Schema, contentType string, body []byte, want string) error {
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || !strings.EqualFold(mt, want) {
		return &Violation{Field: "header.Content-Type", Problem: fmt.Sprintf("must be %s, got %q", want, contentType)}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return &Violation{Field: "body", Problem: "is not valid JSON: " + err.Error()}
	}
	if err := sch.Validate(inst); err != nil {
		return violation("body", err)
	}
	return nil
}

// ValidateError checks a body against the common error body (_error.json).
func (s *Spec) ValidateError(contentType string, body []byte) error {
	return s.validateJSON(s.error, contentType, body, "application/json")
}

var printer = message.NewPrinter(language.English)

// violation turns the library's error tree into the first leaf, named by field path.
func violation(where string, err error) *Violation {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Violation{Field: where, Problem: err.Error()}
	}
	leaf := firstLeaf(ve)
	field := fieldPath(where, leaf.InstanceLocation)
	switch k := leaf.ErrorKind.(type) {
	case *kind.Required:
		return &Violation{Field: joinField(field, k.Missing[0]), Problem: "is required"}
	case *kind.AdditionalProperties:
		return &Violation{Field: joinField(field, k.Properties[0]), Problem: "is not a known field"}
	}
	return &Violation{Field: field, Problem: leaf.ErrorKind.LocalizedString(printer)}
}

// firstLeaf follows the first cause down to an error that has none. For oneOf failures the
// library lists every branch's causes; the first branch's first cause is as good a pointer as any.
func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

// fieldPath writes an instance location as "body.items[0].quota".
func fieldPath(where string, loc []string) string {
	var b strings.Builder
	b.WriteString(where)
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		b.WriteString("." + tok)
	}
	return b.String()
}

func joinField(field, name string) string { return field + "." + name }
