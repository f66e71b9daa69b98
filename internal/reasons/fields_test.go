package reasons

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The field paths the docs name are checked against the CRD schemas
// (config/crd/bases/*.yaml, openAPIV3Schema).
//
// Notation: a path is dotted field names from the object's root, e.g.
// spec.activation.method; name[] steps into the elements of the list
// name, e.g. spec.items[].quota.value. The list itself is written without
// [] at the end of a path (spec.items). Below a map (additionalProperties)
// any key is a field.
//
// Backticked tokens of README.md and docs/*.md (outside fenced blocks)
// are read thus:
//   - spec.… or status.… (or .spec.…, as in a jsonPath) must be a full
//     path of some CRD;
//   - dotted field names whose first name is a field somewhere in a CRD
//     (e.g. activation.method, items[].quota) must be the end of some full
//     path, starting at a field of that name;
//   - either may be followed by ": value" (pricing.mode: production); the
//     value must fit the field: one of its enum values, a boolean, a
//     number, an object, a list;
//   - "kubectl explain <kind>.spec.…" must name a path of that kind;
//   - anything else (file names, hostnames, commands, metric names) is
//     not a field path and is ignored.
//
// The YAML examples of the docs whose apiVersion is the operator's group
// are checked field by field too.

const crdDir = "../../config/crd/bases"

// schema is one node of an openAPIV3Schema.
type schema struct {
	Type                 string                  `json:"type"`
	Properties           map[string]*schema      `json:"properties"`
	Items                *schema                 `json:"items"`
	AdditionalProperties *schema                 `json:"additionalProperties"`
	Enum                 []any                   `json:"enum"`
	Validations          []struct{ Rule string } `json:"x-kubernetes-validations"`
	PreserveUnknown      bool                    `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString          bool                    `json:"x-kubernetes-int-or-string"`
}

// open is an object whose fields the schema does not list (metadata,
// x-kubernetes-preserve-unknown-fields): anything below it is accepted.
func (s *schema) open() bool {
	return s.PreserveUnknown || (s.Type == "object" && s.Properties == nil && s.AdditionalProperties == nil)
}

type crd struct {
	kind, singular, plural string
	root                   *schema
}

// field is a node reached by a field name, with the full path it has.
type field struct {
	kind, path string
	node       *schema
}

type crdSet struct {
	crds []crd
	// byName lists every node reached through a field of that name.
	byName map[string][]field
}

func loadCRDs(t *testing.T) *crdSet {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in %s: %v", crdDir, err)
	}
	set := &crdSet{byName: map[string][]field{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Spec struct {
				Names struct {
					Kind, Singular, Plural string
				}
				Versions []struct {
					Name   string
					Schema struct {
						OpenAPIV3Schema *schema `json:"openAPIV3Schema"`
					}
				}
			}
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range doc.Spec.Versions {
			if v.Schema.OpenAPIV3Schema == nil {
				t.Fatalf("%s: version %s has no openAPIV3Schema", f, v.Name)
			}
			c := crd{kind: doc.Spec.Names.Kind, singular: doc.Spec.Names.Singular, plural: doc.Spec.Names.Plural, root: v.Schema.OpenAPIV3Schema}
			set.crds = append(set.crds, c)
			set.index(c.kind, "", c.root)
		}
	}
	return set
}

func (c *crdSet) index(kind, path string, s *schema) {
	for name, p := range s.Properties {
		full := name
		if path != "" {
			full = path + "." + name
		}
		c.byName[name] = append(c.byName[name], field{kind: kind, path: full, node: p})
		c.index(kind, full, p)
	}
	if s.Items != nil {
		c.index(kind, path+"[]", s.Items)
	}
	if s.AdditionalProperties != nil {
		c.index(kind, path+".*", s.AdditionalProperties)
	}
}

// allPaths lists every full path of every CRD (for the test log).
func (c *crdSet) allPaths() []string {
	seen := map[string]bool{}
	for _, fs := range c.byName {
		for _, f := range fs {
			seen[f.path] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// walk follows segs (field names, name[] for a list's elements; a name
// may hold a * that matches any part of a field name) from s. Lists may be
// stepped into without [] when lax (kubectl explain paths). It returns the
// nodes reached or why the path does not exist.
func walk(s *schema, segs []string, lax bool) ([]*schema, error) {
	if len(segs) == 0 || s.open() {
		return []*schema{s}, nil
	}
	name, elems := strings.CutSuffix(segs[0], "[]")
	var nexts []*schema
	switch {
	case strings.Contains(name, "*"):
		for _, k := range keys(s) {
			if ok, _ := path.Match(name, k); ok {
				nexts = append(nexts, s.Properties[k])
			}
		}
	case s.Properties[name] != nil:
		nexts = append(nexts, s.Properties[name])
	case s.AdditionalProperties != nil:
		nexts = append(nexts, s.AdditionalProperties)
	}
	if len(nexts) == 0 {
		return nil, fmt.Errorf("there is no field %q (fields: %s)", name, strings.Join(keys(s), ", "))
	}
	var out []*schema
	var firstErr error
	for _, next := range nexts {
		if elems || (lax && next.Type == "array" && next.Items != nil) {
			if next.Type != "array" || next.Items == nil {
				return nil, fmt.Errorf("%s is not a list; write it without []", name)
			}
			next = next.Items
		} else if next.Type == "array" && len(segs) > 1 {
			return nil, fmt.Errorf("%s is a list; write %s[] to step into its elements", name, name)
		}
		got, err := walk(next, segs[1:], lax)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		out = append(out, got...)
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// checkValue says why v (decoded YAML) does not fit s, or returns nil.
func checkValue(s *schema, v any, at string) []string {
	if s.open() || v == nil {
		return nil
	}
	var errs []string
	bad := func(format string, a ...any) {
		errs = append(errs, at+": "+fmt.Sprintf(format, a...))
	}
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("is an object (fields %s), not %q", strings.Join(keys(s), ", "), fmt.Sprint(v))
			return errs
		}
		for k, sub := range m {
			p := s.Properties[k]
			if p == nil {
				p = s.AdditionalProperties
			}
			if p == nil {
				bad("has no field %q (fields: %s)", k, strings.Join(keys(s), ", "))
				continue
			}
			errs = append(errs, checkValue(p, sub, at+"."+k)...)
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			// "businessTypes: buyer" names one element of the list.
			if s.Items != nil {
				return checkValue(s.Items, v, at+"[]")
			}
			bad("is a list, not %q", fmt.Sprint(v))
			return errs
		}
		for _, e := range l {
			if s.Items != nil {
				errs = append(errs, checkValue(s.Items, e, at+"[]")...)
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("is a boolean, not %q", fmt.Sprint(v))
		}
	case "integer", "number":
		if s.IntOrString {
			break
		}
		if _, ok := v.(float64); !ok {
			bad("is a number, not %q", fmt.Sprint(v))
		}
	case "string":
		switch v.(type) {
		case map[string]any, []any:
			bad("is a string, not %v", v)
		}
	}
	if vals := s.allowed(); len(vals) > 0 && !slices.Contains(vals, fmt.Sprint(v)) {
		bad("is one of %s, not %q", strings.Join(vals, ", "), fmt.Sprint(v))
	}
	return errs
}

// oneOf matches a CEL rule that limits a string to a list of values, the
// way the CRDs write enums ("self in ['Email', 'Password', 'None']").
var (
	oneOf  = regexp.MustCompile(`^\s*self in \[((?:\s*'[^']*'\s*,?)+)\]\s*$`)
	quoted = regexp.MustCompile(`'([^']*)'`)
)

// allowed lists the values s takes: its enum, or the values of a
// "self in [...]" rule; nil when either is missing.
func (s *schema) allowed() []string {
	var out []string
	for _, e := range s.Enum {
		out = append(out, fmt.Sprint(e))
	}
	for _, v := range s.Validations {
		if m := oneOf.FindStringSubmatch(v.Rule); m != nil {
			for _, q := range quoted.FindAllStringSubmatch(m[1], -1) {
				out = append(out, q[1])
			}
		}
	}
	return out
}

func keys(s *schema) []string {
	out := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	// A path of field names, optionally with a leading dot (jsonPath) and a
	// value: "activation.method: Password".
	// A * stands for any part of a name (logo.*KeyRef.key).
	pathToken = regexp.MustCompile(`^(\.?[A-Za-z_][A-Za-z0-9_]*(?:\[\])?(?:\.[A-Za-z_*][A-Za-z0-9_*]*(?:\[\])?)*)(?::\s+(.+))?$`)
	explain   = regexp.MustCompile(`^kubectl explain ([a-z]+)((?:\.[A-Za-z]+)*)$`)
	// Names that end like these are files, not fields (values.yaml).
	fileSuffix = regexp.MustCompile(`\.(go|md|yaml|yml|json|sh|svg|out|txt)$`)
	inlineCode = regexp.MustCompile("`([^`\n]+)`")
	yamlDocSep = regexp.MustCompile(`(?m)^---\s*$`)
)

// docToken is a backticked token with where it was found.
type docToken struct {
	where, text string
	// page is the file's name without .md (user for docs/user.md).
	page string
	// fieldCell: the token is in the first column of a table headed
	// "| field |", which lists the spec fields of the page's kind.
	fieldCell bool
}

// docFiles are README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, files...)
}

// scanDocs returns the backticked tokens outside fenced blocks, and the
// fenced blocks themselves (their first line's position and text).
func scanDocs(t *testing.T) (tokens []docToken, blocks []docToken) {
	t.Helper()
	for _, f := range docFiles(t) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, "../../")
		sc := bufio.NewScanner(fh)
		page := strings.TrimSuffix(filepath.Base(f), ".md")
		inFence, lang, start, fieldTable := false, "", 0, false
		var block strings.Builder
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "```") {
				if inFence && lang == "yaml" {
					blocks = append(blocks, docToken{where: fmt.Sprintf("%s:%d", name, start), text: block.String()})
				}
				inFence, lang, start = !inFence, strings.TrimPrefix(trimmed, "```"), n+1
				block.Reset()
				continue
			}
			if inFence {
				block.WriteString(line + "\n")
				continue
			}
			switch {
			case strings.HasPrefix(line, "| field |"):
				fieldTable = true
			case !strings.HasPrefix(line, "|"):
				fieldTable = false
			}
			// The first cell ends at the second "|".
			firstCell := -1
			if fieldTable {
				if i := strings.Index(line[1:], "|"); i >= 0 {
					firstCell = i + 1
				}
			}
			for _, m := range inlineCode.FindAllStringSubmatchIndex(line, -1) {
				tokens = append(tokens, docToken{
					where:     fmt.Sprintf("%s:%d", name, n),
					text:      strings.TrimSpace(line[m[2]:m[3]]),
					page:      page,
					fieldCell: m[0] < firstCell,
				})
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		_ = fh.Close()
	}
	return tokens, blocks
}

// checkToken says whether tok names a field path (checked) and, if so,
// what is wrong with it.
func (c *crdSet) checkToken(tok string) (checked bool, problem string) {
	if m := explain.FindStringSubmatch(tok); m != nil {
		for _, d := range c.crds {
			if d.singular == m[1] || d.plural == m[1] || strings.EqualFold(d.kind, m[1]) {
				segs := strings.Split(strings.TrimPrefix(m[2], "."), ".")
				if m[2] == "" {
					return true, ""
				}
				if _, err := walk(d.root, segs, true); err != nil {
					return true, fmt.Sprintf("%s has no path %s: %v", d.kind, m[2][1:], err)
				}
				return true, ""
			}
		}
		return true, fmt.Sprintf("no CRD is called %s", m[1])
	}
	m := pathToken.FindStringSubmatch(tok)
	if m == nil || fileSuffix.MatchString(m[1]) {
		return false, ""
	}
	fieldPath, raw := m[1], m[2]
	full := strings.HasPrefix(fieldPath, ".") || strings.HasPrefix(fieldPath, "spec.") || strings.HasPrefix(fieldPath, "status.")
	fieldPath = strings.TrimPrefix(fieldPath, ".")
	segs := strings.Split(fieldPath, ".")
	first := strings.TrimSuffix(segs[0], "[]")
	if !full && c.byName[first] == nil {
		return false, ""
	}
	if len(segs) == 1 && raw == "" && !full {
		// A lone field name: it exists by the condition above, so it checks
		// nothing worth counting.
		return false, ""
	}
	var value any
	if raw != "" {
		if err := yaml.Unmarshal([]byte(raw), &value); err != nil {
			return true, fmt.Sprintf("the value %q is not YAML: %v", raw, err)
		}
	}
	// Candidate starting points: every CRD root for a full path, every
	// field of the first name otherwise.
	type start struct {
		where string
		node  *schema
		rest  []string
	}
	var starts []start
	if full {
		for _, d := range c.crds {
			starts = append(starts, start{d.kind, d.root, segs})
		}
	} else {
		for _, f := range c.byName[first] {
			n, rest := f.node, segs[1:]
			if strings.HasSuffix(segs[0], "[]") {
				if n.Type != "array" || n.Items == nil {
					continue
				}
				n = n.Items
			}
			starts = append(starts, start{f.kind + " " + f.path, n, rest})
		}
	}
	// Where the path exists, only the value's problems are worth telling.
	var pathProblems, valueProblems []string
	for _, s := range starts {
		nodes, err := walk(s.node, s.rest, false)
		if err != nil {
			pathProblems = append(pathProblems, s.where+": "+err.Error())
			continue
		}
		if raw == "" {
			return true, ""
		}
		for _, n := range nodes {
			errs := checkValue(n, value, fieldPath)
			if len(errs) == 0 {
				return true, ""
			}
			valueProblems = append(valueProblems, s.where+": "+strings.Join(errs, "; "))
		}
	}
	switch {
	case len(valueProblems) > 0:
		return true, "the value does not fit the field (" + summary(valueProblems) + ")"
	case full:
		return true, "no CRD has this path (" + summary(pathProblems) + ")"
	default:
		return true, "no field " + first + " of any CRD continues like this (" + summary(pathProblems) + ")"
	}
}

// summary joins the first few of problems, sorted, without repeats.
func summary(problems []string) string {
	sort.Strings(problems)
	problems = slices.Compact(problems)
	if len(problems) > 4 {
		problems = append(problems[:4], fmt.Sprintf("… %d more", len(problems)-4))
	}
	return strings.Join(problems, " | ")
}

// checkSpecField says whether tok, in the first column of a field table,
// is a path (an annotation there is not) and what is wrong with it: it must
// be a field of the spec of the kind the page is about (docs/user.md: User).
func (c *crdSet) checkSpecField(page, tok string) (checked bool, problem string) {
	m := pathToken.FindStringSubmatch(tok)
	if m == nil || m[2] != "" || strings.HasPrefix(m[1], ".") || fileSuffix.MatchString(m[1]) {
		return false, ""
	}
	for _, d := range c.crds {
		if d.singular != page {
			continue
		}
		if _, err := walk(d.root, append([]string{"spec"}, strings.Split(m[1], ".")...), false); err != nil {
			return true, fmt.Sprintf("%s has no spec.%s: %v", d.kind, m[1], err)
		}
		return true, ""
	}
	return true, "a field table (| field |) in a page that is not about one kind"
}

// TestDocFieldPathsExist fails for every backticked field path in
// README.md and docs/*.md that no CRD schema has, and for every
// "field: value" whose value the field does not take.
func TestDocFieldPathsExist(t *testing.T) {
	crds := loadCRDs(t)
	tokens, _ := scanDocs(t)
	checked := 0
	for _, tok := range tokens {
		ok, problem := crds.checkToken(tok.text)
		if tok.fieldCell {
			ok, problem = crds.checkSpecField(tok.page, tok.text)
		}
		if !ok {
			continue
		}
		checked++
		// FIELDS_VERBOSE=1 lists every token checked.
		if os.Getenv("FIELDS_VERBOSE") != "" {
			t.Logf("%s: `%s`", tok.where, tok.text)
		}
		if problem != "" {
			t.Errorf("%s: `%s`: %s", tok.where, tok.text, problem)
		}
	}
	t.Logf("%d field paths in the CRDs; %d backticked field paths in the docs checked", len(crds.allPaths()), checked)
	// The docs name well over a hundred; far fewer means the scan broke.
	if checked < 100 {
		t.Fatalf("only %d field paths checked in the docs; is the scan still right?", checked)
	}
}

// TestDocExamplesMatchSchema fails when a YAML example of the operator's
// kinds in README.md or docs/*.md has a field the CRD lacks or a value it
// does not take.
func TestDocExamplesMatchSchema(t *testing.T) {
	crds := loadCRDs(t)
	_, blocks := scanDocs(t)
	kinds := map[string]*schema{}
	for _, d := range crds.crds {
		kinds[d.kind] = d.root
	}
	checked := 0
	for _, b := range blocks {
		for i, part := range yamlDocSep.Split(b.text, -1) {
			var doc any
			if err := yaml.Unmarshal([]byte(part), &doc); err != nil {
				t.Errorf("%s: YAML document %d does not parse: %v", b.where, i+1, err)
				continue
			}
			obj, _ := doc.(map[string]any)
			api, _ := obj["apiVersion"].(string)
			if !strings.HasPrefix(api, "accounts.tenant-operator.io/") {
				continue
			}
			kind, _ := obj["kind"].(string)
			root := kinds[kind]
			if root == nil {
				t.Errorf("%s: no CRD of kind %q", b.where, kind)
				continue
			}
			checked++
			for _, e := range checkValue(root, obj, kind) {
				t.Errorf("%s: example: %s", b.where, e)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("only %d YAML examples of the operator's kinds found in the docs; is the scan still right?", checked)
	}
}

// TestFieldCheckCatches proves the checks find the mistakes they are for.
func TestFieldCheckCatches(t *testing.T) {
	crds := loadCRDs(t)
	for _, tc := range []struct {
		tok string
		bad bool
	}{
		{"activation: password", true},
		{"activation.method: password", true},
		{"activation.method: Password", false},
		{"spec.activation.method", false},
		{"spec.activation.methods", true},
		{"spec.items[].quota.value", false},
		{"spec.items.quota.value", true},
		{"items[].quota", false},
		{"enabled: maybe", true},
		{"kubectl explain user.spec.roles", false},
		{"kubectl explain user.spec.rolez", true},
	} {
		ok, problem := crds.checkToken(tc.tok)
		if !ok {
			t.Errorf("`%s` was not checked", tc.tok)
			continue
		}
		if (problem != "") != tc.bad {
			t.Errorf("`%s`: problem %q, want bad=%v", tc.tok, problem, tc.bad)
		}
	}
	// Both ways the CRDs write an enum.
	for _, s := range []*schema{
		{Type: "string", Enum: []any{"Email", "Password"}},
		{Type: "string", Validations: []struct{ Rule string }{{Rule: "self in ['Email', 'Password']"}}},
	} {
		if len(checkValue(s, "Password", "x")) != 0 || len(checkValue(s, "password", "x")) == 0 {
			t.Errorf("the enum %v / %v is not checked", s.Enum, s.Validations)
		}
	}
	var user *schema
	for _, d := range crds.crds {
		if d.kind == "User" {
			user = d.root
		}
	}
	for _, example := range []string{
		"spec: {activation: password}",
		"spec: {activation: {method: password}}",
		"spec: {activaton: {method: Password}}",
		"spec: {enabled: \"yes\"}",
	} {
		var v any
		if err := yaml.Unmarshal([]byte(example), &v); err != nil {
			t.Fatal(err)
		}
		if len(checkValue(user, v, "User")) == 0 {
			t.Errorf("the example %s passed", example)
		}
	}
	for _, tok := range []string{"values.yaml", "tenant.Kind", "127.0.0.1:8443", "make test", "Ready"} {
		if ok, problem := crds.checkToken(tok); ok {
			t.Errorf("`%s` was taken for a field path (%q)", tok, problem)
		}
	}
}
