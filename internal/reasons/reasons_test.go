package reasons

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	internalDir = ".."
	docPath     = "../../docs/troubleshooting.md"
)

// skipped directories hold no controller: the emulator is the server side.
var skipped = map[string]bool{"emulator": true}

// reasonCalls are functions whose first argument is a condition reason.
var reasonCalls = map[string]bool{"Stalled": true, "Waiting": true, "WaitingFor": true, "errorf": true}

// collect parses every non-test Go file under internal/ and returns each
// condition reason with where it was found: string constants whose name
// starts with Reason (untyped, or typed like connection.Reason), string
// literals passed as the reason of managed.Stalled/Waiting and
// connection's errorf, and literal Reason fields of metav1.Condition.
func collect(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	fset := token.NewFileSet()
	add := func(lit ast.Expr, where token.Pos) {
		bl, ok := lit.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return
		}
		v, err := strconv.Unquote(bl.Value)
		if err != nil || v == "" {
			return
		}
		if _, seen := found[v]; !seen {
			found[v] = fset.Position(where).String()
		}
	}
	err := filepath.WalkDir(internalDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipped[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				if n.Tok != token.CONST {
					return true
				}
				for _, spec := range n.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						if strings.HasPrefix(name.Name, "Reason") && i < len(vs.Values) {
							add(vs.Values[i], name.Pos())
						}
					}
				}
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if reasonCalls[name] && len(n.Args) > 0 {
					add(n.Args[0], n.Pos())
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Reason" {
					add(n.Value, n.Pos())
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// documented returns the reasons that start a table row ("| `Reason` |")
// in docs/troubleshooting.md.
func documented(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		rest := strings.TrimPrefix(line, "| `")
		if i := strings.Index(rest, "`"); i > 0 {
			out[rest[:i]] = true
		}
	}
	return out
}

func TestEveryReasonIsDocumented(t *testing.T) {
	found := collect(t)
	// The parser must see the reasons of every layer, or the test proves nothing.
	for _, r := range []string{"Synced", "NotOwned", "TransientError", "AccountServerNotFound", "NamespaceNotAllowed", "Connected", "Unreachable", "PricingOneWay", "LoginTaken", "ItemClaimed", "ReportMismatch", "TenantMismatch"} {
		if _, ok := found[r]; !ok {
			t.Errorf("the source scan did not find reason %s; is collect still right?", r)
		}
	}
	docs := documented(t)
	var missing []string
	for r, where := range found {
		if !docs[r] {
			missing = append(missing, r+" ("+where+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("condition reason %s has no row in docs/troubleshooting.md", m)
	}
}
