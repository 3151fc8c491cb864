// The import graph of the module, checked by reading `go list -json ./...`.
// An arrow points at what a layer may import; a layer may skip the layers
// between (a service imports the root package directly). docs/ARCHITECTURE.md
// mirrors this picture; change both together.
//
//	root  github.com/custos/custos               standard library only
//	  ↑
//	policy         password lockout otp phone      pure rules, no I/O;
//	               keyring tokenimport message     root and each other
//	               idcheck
//	  ↑
//	service parts  codes flow sendlimit            root, policy, each other;
//	                                               the database only through
//	                                               root interfaces
//	  ↑
//	services       auth mfa binding recovery       root, policy, service parts;
//	               identity staff ticket           never another service,
//	               subaccount                      never an adapter
//	  ↑
//	transports     api web server                  root, message, transport
//	                                               support, services; no other
//	                                               policy, no adapter, no other
//	                                               transport (except server → api)
//	  ↑
//	top            app cmd/custos                  anything in the module
//
//	root ← policy ← service parts ← services ← transports ← app, cmd/custos
//
//	adapters           sqlstore sqlstore/storetest notify captcha queue blob
//	                   import only root: root ← adapters ← app, cmd/custos
//	transport support  requestinfo httperr upload
//	                   import root, message and requestinfo; transports use them
//	test support       internal/testclock internal/testdb internal/testserver
//	                   internal/testsmtp bench
//	                   may import anything; only tests import them
//
// A package under another's internal/ (password/internal/gen) belongs to that
// package's layer. Only the imports of non-test files count: a test may reach
// across layers (services' tests run on sqlstore through internal/testdb).

package custos_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// modulePath is the module the layer table describes. Packages are named in
// the table by their path below it; the root package is ".".
const modulePath = "github.com/custos/custos"

// A layer is a set of packages and what their non-test files may import from
// the module. Imports from outside the module are not checked, except that
// the root package takes only the standard library.
type layer struct {
	name     string
	packages []string // paths below the module root; absent ones are fine
	// mayImport names the layers whose packages this layer's packages may
	// import. A layer imports its own packages only when it names itself.
	mayImport []string
	// mayImportPackages names single packages of other layers it may import.
	mayImportPackages []string
	// anything lets the layer import every package of the module.
	anything bool
	// modules, when set, are the only modules outside this one (besides the
	// standard library) the layer's packages may import.
	modules []string
	// leaf: no package of another layer may import this layer's packages.
	leaf bool
}

// layers places every package of the module. A new package fails
// TestLayerTableCoversEveryPackage until it is added here, deliberately.
var layers = []layer{
	{
		name:     "root",
		packages: []string{"."},
	},
	{
		name:      "policy",
		packages:  []string{"password", "lockout", "otp", "phone", "keyring", "tokenimport", "message", "idcheck"},
		mayImport: []string{"root", "policy"},
	},
	{
		name:      "adapters",
		packages:  []string{"sqlstore", "sqlstore/storetest", "notify", "captcha", "queue", "blob"},
		mayImport: []string{"root"},
	},
	{
		name:      "service parts",
		packages:  []string{"codes", "flow", "sendlimit"},
		mayImport: []string{"root", "policy", "service parts"},
	},
	{
		name:      "services",
		packages:  []string{"auth", "mfa", "binding", "recovery", "identity", "staff", "ticket", "subaccount"},
		mayImport: []string{"root", "policy", "service parts"},
	},
	{
		name:              "transport support",
		packages:          []string{"requestinfo", "httperr", "upload"},
		mayImport:         []string{"root"},
		mayImportPackages: []string{"message", "requestinfo"},
	},
	{
		name:              "transports",
		packages:          []string{"api", "web", "server"},
		mayImport:         []string{"root", "transport support", "services"},
		mayImportPackages: []string{"message"},
	},
	{
		name:     "top",
		packages: []string{"app", "cmd/custos"},
		anything: true,
	},
	{
		name:     "test support",
		packages: []string{"internal/testclock", "internal/testdb", "internal/testserver", "internal/testsmtp", "bench"},
		anything: true,
	},
	{
		// The Go client generated from api/openapi.yaml: outside the
		// server's graph, for integrators (and tests) only.
		name:     "client",
		packages: []string{"client"},
		modules:  []string{"github.com/oapi-codegen/runtime"},
		leaf:     true,
	},
}

// allowedEdges are single imports the layers forbid but the design wants,
// each with its reason.
var allowedEdges = map[string]string{
	"server -> api": "server/server.go asserts that *api.API is a server.Registrar",
}

// edge is how allowedEdges names an import.
func edge(from, to string) string { return from + " -> " + to }

// layerByName and layerByPackage index layers.
func layerByName(name string) (layer, bool) {
	for _, l := range layers {
		if l.name == name {
			return l, true
		}
	}
	return layer{}, false
}

func layerByPackage(rel string) (layer, bool) {
	for _, l := range layers {
		if slices.Contains(l.packages, rel) {
			return l, true
		}
	}
	return layer{}, false
}

// owner is the package whose layer rel belongs to: rel itself, or for a
// package under another's internal/ directory, that other package.
// internal/testdb at the module root is its own owner.
func owner(rel string) string {
	if _, ok := layerByPackage(rel); ok {
		return rel
	}
	if i := strings.Index(rel, "/internal/"); i > 0 {
		return owner(rel[:i])
	}
	if p, ok := strings.CutSuffix(rel, "/internal"); ok && p != "" {
		return owner(p)
	}
	return rel
}

// placed returns the layer of rel (through its owner) and whether it has one.
func placed(rel string) (layer, bool) { return layerByPackage(owner(rel)) }

// relPath names an import path of the module as the table does, and reports
// whether it is in the module at all.
func relPath(importPath string) (string, bool) {
	if importPath == modulePath {
		return ".", true
	}
	rel, ok := strings.CutPrefix(importPath, modulePath+"/")
	return rel, ok
}

// isStandard reports whether an import path outside the module belongs to
// the standard library, whose paths have no dot in their first element.
func isStandard(importPath string) bool {
	first, _, _ := strings.Cut(importPath, "/")
	return !strings.Contains(first, ".")
}

// describe says what l may import, for failure messages.
func (l layer) describe() string {
	if l.anything {
		return "anything in the module"
	}
	var parts []string
	for _, n := range l.mayImport {
		if n == l.name {
			n = "other " + n + " packages"
		}
		parts = append(parts, n)
	}
	parts = append(parts, l.mayImportPackages...)
	if len(parts) == 0 {
		return "only the standard library"
	}
	return strings.Join(parts, ", ")
}

// check returns "" when package from (module-relative) may import the
// import path imp, and otherwise why not. Imports of packages the table
// does not place are left to TestLayerTableCoversEveryPackage.
func check(from, imp string) string {
	fromLayer, ok := placed(from)
	if !ok {
		return ""
	}
	to, inModule := relPath(imp)
	if !inModule && fromLayer.modules != nil {
		if isStandard(imp) || slices.ContainsFunc(fromLayer.modules, func(m string) bool { return imp == m || strings.HasPrefix(imp, m+"/") }) {
			return ""
		}
		return fmt.Sprintf("%s is in layer %s, which may import only the standard library and %s", from, fromLayer.name, strings.Join(fromLayer.modules, ", "))
	}
	if !inModule {
		if len(fromLayer.mayImport) == 0 && !fromLayer.anything && !isStandard(imp) {
			return fmt.Sprintf("%s is in layer %s, which may import only the standard library", from, fromLayer.name)
		}
		return ""
	}
	if owner(from) == owner(to) {
		return ""
	}
	toLayer, ok := placed(to)
	if ok && toLayer.leaf && toLayer.name != fromLayer.name {
		return fmt.Sprintf("%s is in layer %s, which no other layer may import", to, toLayer.name)
	}
	if fromLayer.anything || !ok {
		return ""
	}
	if slices.Contains(fromLayer.mayImport, toLayer.name) ||
		slices.Contains(fromLayer.mayImportPackages, owner(to)) {
		return ""
	}
	if _, ok := allowedEdges[edge(from, to)]; ok {
		return ""
	}
	return fmt.Sprintf("%s is in layer %s, which may import %s; %s is in layer %s",
		from, fromLayer.name, fromLayer.describe(), to, toLayer.name)
}

// listedPackage is the part of `go list -json` the checks read.
type listedPackage struct {
	ImportPath string
	Imports    []string // non-test imports only
	Error      *struct{ Err string }
}

var listPackages = sync.OnceValues(func() ([]listedPackage, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" || gomod == "NUL" {
		return nil, errors.New("go env GOMOD: not inside a module")
	}
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Error", "./...")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w\n%s", cmd.Dir, err, stderr.Bytes())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list output: %w", err)
		}
		if _, ok := relPath(p.ImportPath); !ok {
			return nil, fmt.Errorf("go list printed %s, which is outside %s: has the module been renamed?", p.ImportPath, modulePath)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, errors.New("go list printed no packages")
	}
	return pkgs, nil
})

func packages(t *testing.T) []listedPackage {
	t.Helper()
	pkgs, err := listPackages()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestImportsFollowLayers(t *testing.T) {
	pkgs := packages(t)
	for _, p := range pkgs {
		from, _ := relPath(p.ImportPath)
		if p.Error != nil {
			t.Errorf("%s does not load, so its imports may be incomplete: %s", from, p.Error.Err)
		}
		for _, imp := range p.Imports {
			why := check(from, imp)
			if why == "" {
				continue
			}
			to, inModule := relPath(imp)
			if !inModule {
				to = imp
			}
			t.Errorf("%s imports %s: %s", from, to, why)
		}
	}
}

func TestLayerTableCoversEveryPackage(t *testing.T) {
	for _, p := range packages(t) {
		rel, _ := relPath(p.ImportPath)
		if _, ok := placed(rel); !ok {
			t.Errorf("package %s is in no layer: add it to the layers table in imports_test.go (and to docs/ARCHITECTURE.md)", rel)
		}
	}
}

// TestLayerTable checks the table against itself, so a typo cannot quietly
// allow or forbid nothing.
func TestLayerTable(t *testing.T) {
	seen := map[string]string{}
	for _, l := range layers {
		for _, p := range l.packages {
			if other, ok := seen[p]; ok {
				t.Errorf("package %s is in layers %s and %s", p, other, l.name)
			}
			seen[p] = l.name
		}
		for _, n := range l.mayImport {
			if _, ok := layerByName(n); !ok {
				t.Errorf("layer %s may import layer %q, which does not exist", l.name, n)
			}
		}
		for _, p := range l.mayImportPackages {
			if _, ok := layerByPackage(p); !ok {
				t.Errorf("layer %s may import package %q, which is in no layer", l.name, p)
			}
		}
	}
	edges := map[string]string{}
	for e := range allowedEdges {
		edges[e] = "allowedEdges"
	}
	for e, table := range edges {
		from, to, ok := strings.Cut(e, " -> ")
		if !ok {
			t.Errorf("%s key %q: want \"from -> to\"", table, e)
			continue
		}
		for _, p := range []string{from, to} {
			if _, ok := placed(p); !ok {
				t.Errorf("%s key %q: package %s is in no layer", table, e, p)
			}
		}
	}
}

// TestLayerRules pins down what the table means, independent of today's tree.
func TestLayerRules(t *testing.T) {
	tests := []struct {
		name     string
		from, to string // paths below the module root
		external string // instead of to: an import path outside the module
		ok       bool
	}{
		{name: "root takes the standard library", from: ".", external: "net/http", ok: true},
		{name: "root takes no third-party module", from: ".", external: "github.com/google/uuid", ok: false},
		{name: "root imports no package of the module", from: ".", to: "password", ok: false},
		{name: "policy imports root", from: "lockout", to: ".", ok: true},
		{name: "policy imports policy", from: "tokenimport", to: "otp", ok: true},
		{name: "policy takes third-party modules", from: "phone", external: "github.com/nyaruka/phonenumbers", ok: true},
		{name: "policy imports no service part", from: "lockout", to: "sendlimit", ok: false},
		{name: "policy imports no adapter", from: "password", to: "sqlstore", ok: false},
		{name: "adapter imports root", from: "sqlstore", to: ".", ok: true},
		{name: "adapter imports no policy", from: "notify", to: "phone", ok: false},
		{name: "adapter imports no other adapter", from: "sqlstore/storetest", to: "sqlstore", ok: false},
		{name: "service part imports policy", from: "sendlimit", to: "lockout", ok: true},
		{name: "service part imports service part", from: "codes", to: "sendlimit", ok: true},
		{name: "service part imports no service", from: "sendlimit", to: "auth", ok: false},
		{name: "service imports policy", from: "auth", to: "password", ok: true},
		{name: "service imports service part", from: "binding", to: "sendlimit", ok: true},
		{name: "service imports no other service", from: "auth", to: "mfa", ok: false},
		{name: "service imports no adapter", from: "auth", to: "captcha", ok: false},
		{name: "service imports no transport support", from: "auth", to: "requestinfo", ok: false},
		{name: "transport support imports message", from: "httperr", to: "message", ok: true},
		{name: "httperr imports requestinfo", from: "httperr", to: "requestinfo", ok: true},
		{name: "requestinfo imports no httperr", from: "requestinfo", to: "httperr", ok: false},
		{name: "transport support imports no other policy", from: "httperr", to: "password", ok: false},
		{name: "transport imports service", from: "api", to: "auth", ok: true},
		{name: "transport imports transport support", from: "web", to: "requestinfo", ok: true},
		{name: "transport imports message", from: "web", to: "message", ok: true},
		{name: "transport imports no other policy", from: "web", to: "otp", ok: false},
		{name: "transport imports no service part", from: "web", to: "sendlimit", ok: false},
		{name: "transport imports no adapter", from: "api", to: "captcha", ok: false},
		{name: "transport imports no other transport", from: "api", to: "web", ok: false},
		{name: "server imports api", from: "server", to: "api", ok: true},
		{name: "server imports no web", from: "server", to: "web", ok: false},
		{name: "app imports anything", from: "app", to: "sqlstore", ok: true},
		{name: "cmd imports anything", from: "cmd/custos", to: "tokenimport", ok: true},
		{name: "test support imports anything", from: "internal/testserver", to: "app", ok: true},
		{name: "service imports no test support", from: "auth", to: "internal/testclock", ok: false},
		{name: "internal package has its owner's layer", from: "password/internal/gen", to: "auth", ok: false},
		{name: "internal package imports its owner", from: "password/internal/gen", to: "password", ok: true},
		{name: "package imports its own internal package", from: "auth", to: "auth/internal/flows", ok: true},
		{name: "internal package is imported as its owner", from: "api", to: "auth/internal/flows", ok: true},
		{name: "client takes the standard library", from: "client", external: "net/http", ok: true},
		{name: "client takes its runtime", from: "client", external: "github.com/oapi-codegen/runtime/types", ok: true},
		{name: "client takes no other module", from: "client", external: "github.com/google/uuid", ok: false},
		{name: "client imports nothing of the server", from: "client", to: "api", ok: false},
		{name: "no server package imports the client", from: "app", to: "client", ok: false},
		{name: "test support imports no client", from: "internal/testserver", to: "client", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp := tt.external
			if imp == "" {
				imp = strings.TrimSuffix(modulePath+"/"+tt.to, "/.")
			}
			why := check(tt.from, imp)
			if got := why == ""; got != tt.ok {
				t.Errorf("check(%q, %q) allowed = %v, want %v (%s)", tt.from, imp, got, tt.ok, why)
			}
		})
	}
}
