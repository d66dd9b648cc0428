package arch

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/imagescan/imagescan"

// pkg is one package's non-test source.
type pkg struct {
	imports map[string]bool
	files   map[string]*ast.File
}

// load parses every package's non-test files under the repository root.
func load(t *testing.T) map[string]*pkg {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		k := filepath.ToSlash(rel)
		if pkgs[k] == nil {
			pkgs[k] = &pkg{imports: map[string]bool{}, files: map[string]*ast.File{}}
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			pkgs[k].imports[path] = true
		}
		pkgs[k].files[p] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// only lists imports that a single package (or package prefix) may use.
var only = map[string][]string{
	"github.com/zricethezav/gitleaks":                       {"scan/secrets"},
	"github.com/spf13/viper":                                {"scan/secrets"},
	"github.com/flier/gohs":                                 {"scan/secrets"},
	"github.com/rs/zerolog":                                 {"scan/secrets"},
	"github.com/spf13/cobra":                                {"cmd/imagescan"},
	"github.com/schollz/progressbar":                        {"cmd/imagescan"},
	"golang.org/x/term":                                     {"cmd/imagescan"},
	"github.com/google/go-containerregistry/pkg/v1/tarball": {"source", "internal/fixture"},
	"github.com/google/go-containerregistry/pkg/v1/remote":  {"source", "internal/fixture"},
	"github.com/google/go-containerregistry/pkg/v1/layout":  {"source", "internal/fixture"},
	"github.com/google/go-containerregistry/pkg/v1/daemon":  {"source"},
	module + "/source":                                      {"cmd/imagescan", "internal/fixture", "fleet"},
	module + "/report":                                      {"cmd/imagescan", "fleet"},
	module + "/fleet":                                       {"cmd/imagescan"},
	module + "/internal/fixture":                            {},
	module + "/internal/testenv":                            {},
	module + "/layercache":                                  {"cmd/imagescan"},
	module + "/baseline":                                    {"cmd/imagescan", "report"},
	"go.etcd.io/bbolt":                                      {"layercache"},
	"github.com/redis/go-redis":                             {"layercache", "internal/testenv"},
	"k8s.io/":                                               {},
	"github.com/chromedp":                                   {"internal/testenv"},
	"github.com/go-git/go-git":                              {"scan/layers"},
	"github.com/go-git/go-billy":                            {"scan/layers"},
}

func TestImportRules(t *testing.T) {
	pkgs := load(t)
	if len(pkgs) < 8 {
		t.Fatalf("found %d packages, the walk is wrong", len(pkgs))
	}
	for dir, p := range pkgs {
		for imp := range p.imports {
			for prefix, allowed := range only {
				if strings.HasPrefix(imp, prefix) && !contains(allowed, dir) {
					t.Errorf("%s imports %s; only %v may", dir, imp, allowed)
				}
			}
		}
	}
	for imp := range pkgs["finding"].imports {
		if strings.HasPrefix(imp, module) {
			t.Errorf("finding imports %s; the finding model must import nothing of the project", imp)
		}
	}
	for _, sub := range []string{"scan/layers", "scan/history", "scan/secrets"} {
		if pkgs[sub].imports[module+"/scan"] {
			t.Errorf("%s imports scan, which imports it", sub)
		}
	}
}

// printers are the calls that write to the terminal or a global logger.
var printers = map[string][]string{
	"fmt": {"Print", "Printf", "Println"},
	"log": {"Print", "Printf", "Println", "Fatal", "Fatalf", "Fatalln", "Panic", "Panicf"},
	"os":  {"Stdout", "Stderr", "Exit"},
}

func TestLibrariesAreSilent(t *testing.T) {
	for dir, p := range load(t) {
		if strings.HasPrefix(dir, "cmd/") {
			continue
		}
		for file, f := range p.files {
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if ok && contains(printers[x.Name], sel.Sel.Name) {
					t.Errorf("%s uses %s.%s: only cmd/ writes to the terminal", file, x.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
