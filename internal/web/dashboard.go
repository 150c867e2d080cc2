package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/wikistream/wikistream/internal/web/ui"
)

// The dashboard: the files vite built from ui/ (embedded by package ui)
// at / and /assets/. They are the same bytes for everyone and carry no
// data, so they are served without the token, which the page then sends
// with every API request (from ?token= or a prompt, kept in the tab's
// sessionStorage).

// dashboardFiles is the dashboard to serve, or nil when it was not built.
func (s *Server) dashboardFiles() fs.FS {
	if s.cfg.Dashboard != nil {
		if _, err := fs.Stat(s.cfg.Dashboard, "index.html"); err != nil {
			return nil
		}
		return s.cfg.Dashboard
	}
	files, ok := ui.Files()
	if !ok {
		return nil
	}
	return files
}

// isDashboardFile reports whether a request is for the dashboard's static
// files, which need no token.
func isDashboardFile(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p == "/" || p == "/index.html" || strings.HasPrefix(p, "/assets/") && !strings.Contains(p, "..")
}

// notBuilt is the page / shows when the binary was built without the
// dashboard.
const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WikiStream: dashboard not built</title>
<style>body{font:15px system-ui,sans-serif;max-width:40em;margin:4em auto;color:#1f2937}code{background:#eef1f5;padding:2px 5px;border-radius:4px}</style>
</head><body>
<h1>Dashboard not built: run <code>make ui</code></h1>
<p>This binary was compiled before the dashboard was built, so it has nothing to show here.
Run <code>make ui</code> (npm ci and npm run build in <code>ui/</code>), then build or run again
(<code>make run</code> does both).</p>
<p>The API works without it: <a href="/api/v1/stats/summary">/api/v1/stats/summary</a>,
<a href="/api/v1/stats/hourly">/api/v1/stats/hourly</a>, <code>api/openapi.yaml</code>.</p>
</body></html>
`

// dashboard serves GET / and the dashboard's assets.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	files := s.dashboardFiles()
	if r.URL.Path != "/" && r.URL.Path != "/index.html" && !strings.HasPrefix(r.URL.Path, "/assets/") {
		writeError(w, http.StatusNotFound, "no such page: the dashboard is at /, the API under /api/v1/ (api/openapi.yaml)")
		return
	}
	if files == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(notBuilt))
		return
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such dashboard file: "+name)
		return
	}
	if name == "index.html" {
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		// vite names assets by their content's hash.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, startTime, strings.NewReader(string(b)))
}
