//go:build ignore

// Command gen extracts the common-password list that package password embeds:
// the first (most frequent) entries of the "passwords" frequency list shipped
// in github.com/trustelem/zxcvbn v1.0.1 (MIT; see ../../NOTICE.md).
//
// It reads zxcvbn's frequency/lists.go as Go source rather than importing
// the package, so the binary never links zxcvbn and this program works even
// when go.mod no longer requires it. Run from the password directory:
//
//	go generate
//
// or directly:
//
//	go run ./internal/gen/main.go -o common-passwords.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

const module = "github.com/trustelem/zxcvbn@v1.0.1"

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	n := flag.Int("n", 10000, "number of entries to keep, by rank")
	out := flag.String("o", "common-passwords.txt", "output file")
	dir := flag.String("zxcvbn", "", "directory of "+module+" (default: from go mod download)")
	flag.Parse()

	if *dir == "" {
		*dir = moduleDir()
	}
	words, err := passwords(filepath.Join(*dir, "frequency", "lists.go"))
	if err != nil {
		log.Fatal(err)
	}
	if len(words) < *n {
		log.Fatalf("list has %d entries, want at least %d", len(words), *n)
	}
	if err := write(*out, words[:*n]); err != nil {
		log.Fatal(err)
	}
}

// moduleDir asks the go command where the pinned zxcvbn version lives.
func moduleDir() string {
	b, err := exec.Command("go", "mod", "download", "-json", module).Output()
	if err != nil {
		log.Fatalf("go mod download %s: %v", module, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(b, &m); err != nil || m.Dir == "" {
		log.Fatalf("go mod download %s: no directory in %s", module, b)
	}
	return m.Dir
}

// passwords returns FrequencyLists["passwords"] from lists.go, in rank order.
func passwords(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	// The list is the value of the "passwords" key in the FrequencyLists
	// map literal.
	var list *ast.CompositeLit
	ast.Inspect(f, func(n ast.Node) bool {
		if list != nil {
			return false
		}
		if kv, ok := n.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.BasicLit); ok && k.Value == `"passwords"` {
				list, _ = kv.Value.(*ast.CompositeLit)
			}
		}
		return true
	})
	if list == nil {
		return nil, fmt.Errorf("%s: no passwords list literal", path)
	}
	words := make([]string, 0, len(list.Elts))
	for _, e := range list.Elts {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, fmt.Errorf("%s: non-string entry in passwords", path)
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		words = append(words, s)
	}
	return words, nil
}

func write(path string, words []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, s := range words {
		if s == "" || strings.ContainsAny(s, "\r\n") {
			f.Close()
			return fmt.Errorf("entry %q cannot be written one per line", s)
		}
		w.WriteString(s)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
