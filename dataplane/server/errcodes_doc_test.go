package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHTTPAPIDocListsEveryErrorCode keeps the error-code table of
// docs/http-api.md complete: every Code* string constant declared by this
// package (auth and limits) or by dataplane/sql (statement errors) must
// appear there in backquotes, so a new code cannot ship undocumented.
func TestHTTPAPIDocListsEveryErrorCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/http-api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{".", "../sql"} {
		for name, code := range codeConstants(t, dir) {
			if !strings.Contains(string(doc), "`"+code+"`") {
				t.Errorf("docs/http-api.md does not document %s (%s in %s)", code, name, dir)
			}
		}
	}
}

// codeConstants returns the string constants named Code* declared in the
// non-test Go files of dir.
func codeConstants(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if v, err := strconv.Unquote(lit.Value); err == nil {
						out[id.Name] = v
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Code* constants found in %s", dir)
	}
	return out
}
