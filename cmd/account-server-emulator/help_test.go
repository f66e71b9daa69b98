package main

import (
	"bytes"
	"flag"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// TestMain lets a test run main itself in a child process (runMain), so the exit status of the
// real command is what the test sees.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("EMULATOR_TEST_RUN_MAIN"); ok {
		os.Args = append([]string{"account-server-emulator"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs main with args in a child process and returns its stdout, stderr and exit code.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EMULATOR_TEST_RUN_MAIN="+strings.Join(args, " "))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

// adminRoutes reads, from the emulator's source, the control endpoints it serves: the cases of
// the switch on the path in serveAdmin, each with the http.Method* its case compares against
// (in the case or in a method of the server the case calls). The prefix is adminPrefix.
func adminRoutes(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "internal", "emulator")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	funcs := map[string]*ast.FuncDecl{}
	prefix := ""
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				funcs[d.Name.Name] = d
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok && len(vs.Values) == len(vs.Names) {
						for i, n := range vs.Names {
							if n.Name == "adminPrefix" {
								prefix, _ = strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
							}
						}
					}
				}
			}
		}
	}
	serve := funcs["serveAdmin"]
	if serve == nil || prefix == "" {
		t.Fatal("internal/emulator has no serveAdmin or adminPrefix; is adminRoutes still right?")
	}
	// methods lists the http.Method* constants n uses, and those of the server's methods it calls.
	var methods func(n ast.Node, seen map[string]bool) []string
	methods = func(n ast.Node, seen map[string]bool) []string {
		var out []string
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "http" && strings.HasPrefix(n.Sel.Name, "Method") {
					out = append(out, strings.ToUpper(strings.TrimPrefix(n.Sel.Name, "Method")))
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && funcs[sel.Sel.Name] != nil && funcs[sel.Sel.Name].Recv != nil && !seen[sel.Sel.Name] {
					seen[sel.Sel.Name] = true
					out = append(out, methods(funcs[sel.Sel.Name].Body, seen)...)
				}
			}
			return true
		})
		return out
	}
	var routes []string
	ast.Inspect(serve.Body, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok {
			return true
		}
		if tag, ok := sw.Tag.(*ast.Ident); !ok || tag.Name != "path" {
			return true
		}
		for _, c := range sw.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				lit, ok := e.(*ast.BasicLit)
				if !ok || lit.Kind != gotoken.STRING {
					continue
				}
				path, _ := strconv.Unquote(lit.Value)
				ms := methods(&ast.BlockStmt{List: cc.Body}, map[string]bool{})
				slices.Sort(ms)
				if len(ms) == 0 {
					t.Errorf("no method found for %s%s; is adminRoutes still right?", prefix, path)
				}
				for _, m := range slices.Compact(ms) {
					routes = append(routes, m+" "+prefix+path)
				}
			}
		}
		return false
	})
	if len(routes) < 5 {
		t.Fatalf("only %d control endpoints found in internal/emulator (%v); is adminRoutes still right?", len(routes), routes)
	}
	return routes
}

// contains reports whether text names the route "METHOD /path", with any spaces between.
func contains(text, route string) bool {
	method, path, _ := strings.Cut(route, " ")
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(strings.ReplaceAll(line, "`", " ")); slices.ContainsFunc(f, func(s string) bool { return s == path }) {
			i := slices.Index(f, path)
			if i > 0 && f[i-1] == method {
				return true
			}
		}
	}
	return false
}

// TestHelp runs the real command with --help and -h: it exits 0, writes to stdout only, and
// names what the emulator is, every flag, every fault with its flag, and every control endpoint
// the emulator serves (read from its source), with an example.
func TestHelp(t *testing.T) {
	routes := adminRoutes(t)
	for _, arg := range []string{"--help", "-h"} {
		t.Run(arg, func(t *testing.T) {
			out, errOut, code := runMain(t, arg)
			if code != 0 {
				t.Fatalf("%s exits %d; stderr: %s", arg, code, errOut)
			}
			if errOut != "" {
				t.Errorf("%s writes to stderr: %s", arg, errOut)
			}
			for _, want := range []string{"in-memory account server", "not for production", "/api/2", "Example:", "curl "} {
				if !strings.Contains(out, want) {
					t.Errorf("the help does not say %q", want)
				}
			}
			for _, r := range routes {
				if !contains(out, r) {
					t.Errorf("the help does not name the control endpoint %s", r)
				}
			}
			fs := flagNames()
			for _, name := range fs {
				if !strings.Contains(out, "--"+name+" ") {
					t.Errorf("the help does not list --%s", name)
				}
			}
			ft := reflect.TypeFor[emulator.Faults]()
			for i := range ft.NumField() {
				name, _, _ := strings.Cut(ft.Field(i).Tag.Get("json"), ",")
				h, ok := faultHelp[name]
				if !ok || h.values == "" || h.effect == "" {
					t.Errorf("fault %s has no help (faultHelp)", name)
				}
				if !strings.Contains(out, "\n  "+name+" ") {
					t.Errorf("the help does not list the fault %s", name)
				}
				if h.flag != "" && !slices.Contains(fs, strings.TrimPrefix(h.flag, "--")) {
					t.Errorf("fault %s names the flag %s, which does not exist", name, h.flag)
				}
			}
		})
	}
	// A mistake is still an error, on stderr, with exit 1.
	out, errOut, code := runMain(t, "--colour", "red")
	if code != 1 || out != "" || !strings.Contains(errOut, "--help") {
		t.Errorf("an unknown flag: exit %d, stdout %q, stderr %q; want 1, nothing, a pointer to --help", code, out, errOut)
	}
}

// flagNames lists the flags the command defines (newFlagSet).
func flagNames() []string {
	var c config
	var latency, jitter time.Duration
	var names []string
	newFlagSet(&c, &latency, &jitter).VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// TestDocsNameControlEndpoints fails when the emulator serves a control endpoint that
// docs/wire.md's section "The emulator" does not name.
func TestDocsNameControlEndpoints(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "wire.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## The emulator\n")
	if !ok {
		t.Fatal(`docs/wire.md has no section "## The emulator"`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	for _, r := range adminRoutes(t) {
		if !contains(section, r) {
			t.Errorf("docs/wire.md (The emulator) does not name the control endpoint %s", r)
		}
	}
}
