package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Only serveError answers a page with an error status: handlers return
// errors (formAgain and gone included) and render answers 200. This reads
// the package's source for the calls that set a status — write and
// WriteHeader — and allows them only in the functions that own them.
func TestOneErrorPath(t *testing.T) {
	allowed := map[string]map[string]bool{
		"write":       {"render": true, "serveError": true},
		"WriteHeader": {"serveError": true, "writeHTML": true, "writeJSON": true},
		"WriteJSON":   {"handleJSON": true},
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if owners, ok := allowed[sel.Sel.Name]; ok && !owners[fn.Name.Name] {
					t.Errorf("%s: %s calls %s; pages answer error statuses only through serveError",
						fset.Position(call.Pos()), fn.Name.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}
