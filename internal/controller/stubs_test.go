// Package controller holds checks that span every kind's package.
package controller

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoStubs fails when a per-kind file has a method whose body only
// returns nil, or only hands over to another method of the same receiver:
// such a method exists to satisfy an interface, and the capability it
// pretends to have belongs in an optional interface the kind leaves out.
func TestNoStubs(t *testing.T) {
	files, err := filepath.Glob("*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Body == nil {
				continue
			}
			checked++
			if why := stub(fn); why != "" {
				t.Errorf("%s: method %s %s", fset.Position(fn.Pos()), fn.Name.Name, why)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d methods found; is the glob still right?", checked)
	}
}

// stub says why fn is a stub, or "" when it is not.
func stub(fn *ast.FuncDecl) string {
	if len(fn.Body.List) != 1 {
		return ""
	}
	ret, ok := fn.Body.List[0].(*ast.ReturnStmt)
	if !ok {
		return ""
	}
	if len(ret.Results) > 0 && allNil(ret.Results) {
		return "only returns nil"
	}
	if len(ret.Results) == 1 {
		if call, ok := ret.Results[0].(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && receiverName(fn) == id.Name {
					return "only delegates to " + sel.Sel.Name + " of the same receiver"
				}
			}
		}
	}
	return ""
}

func allNil(exprs []ast.Expr) bool {
	for _, e := range exprs {
		if id, ok := e.(*ast.Ident); !ok || id.Name != "nil" {
			return false
		}
	}
	return true
}

func receiverName(fn *ast.FuncDecl) string {
	if names := fn.Recv.List[0].Names; len(names) > 0 {
		return names[0].Name
	}
	return ""
}
