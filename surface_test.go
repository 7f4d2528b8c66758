package flagmigrate_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxRootNames bounds the root package's exported top-level names: the
// library's face, the generic engine, its options and its flags. The
// vocabulary lives in package migration, the contract in eventstore; the
// deprecated aliases of deprecated.go, kept for one release, are not
// counted.
const maxRootNames = 45

// TestRootSurface counts the root package's exported top-level names (a
// const, var, type or func, an alias counting as one) and holds them to
// maxRootNames, so that the face stays small as the library grows.
func TestRootSurface(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "deprecated.go" {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							names = append(names, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								names = append(names, n.Name)
							}
						}
					}
				}
			}
		}
	}
	slices.Sort(names)
	t.Logf("%d exported names: %s", len(names), strings.Join(names, " "))
	if len(names) > maxRootNames {
		t.Errorf("the root package exports %d names, more than %d: move vocabulary to package migration", len(names), maxRootNames)
	}
}
