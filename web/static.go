package web

import (
	"embed"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFS embed.FS

// staticTypes gives every static file an explicit Content-Type; with
// X-Content-Type-Options: nosniff a browser uses only what it is told.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".js":  "text/javascript; charset=utf-8",
}

// serveStatic serves the embedded stylesheet, icon and security-key script
// under /static/.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	typ, ok := staticTypes[path.Ext(name)]
	b, err := staticFS.ReadFile(name)
	if !ok || err != nil || strings.Contains(name, "..") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
