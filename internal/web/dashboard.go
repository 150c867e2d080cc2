package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/wikistream/wikistream/internal/web/ui"
)

// The dashboard: the files vite built from ui/ (embedded by package ui)
// at / and /assets/. With a token, every request for them needs it too
// (DESIGN.md section 6), as the API's do. A browser cannot send a header
// when it opens a page, so the refusal of / is a small page of our own
// (signInPage) that takes the token from ?token=, the tab's sessionStorage
// or a form, fetches the dashboard's page and files with it, and starts
// the dashboard from them; the dashboard then sends it with every API
// request.

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

// isDashboardPage reports whether a request opens the dashboard's page.
func isDashboardPage(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/" || r.URL.Path == "/index.html")
}

// signIn answers an unauthorized request for the dashboard's page: 401,
// with signInPage as the body.
func signIn(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(signInPage))
}

// signInPage asks for the token, then loads the dashboard with it: its
// page, and each stylesheet and module script the page names, fetched with
// the Authorization header and started from blob: URLs. The key in
// sessionStorage is the one the dashboard reads (ui/src/api.ts).
const signInPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>WikiStream: sign in</title>
<style id="signin-style">body{font:15px system-ui,sans-serif;max-width:28em;margin:5em auto;padding:0 1em;color:#1f2937}
input{font:inherit;padding:.45em .6em;width:100%;box-sizing:border-box;border:1px solid #c8d0db;border-radius:6px}
button{font:inherit;margin-top:.7em;padding:.45em 1em;border:0;border-radius:6px;background:#2f6fdf;color:#fff;cursor:pointer}
#error{color:#b42318}</style></head>
<body><main id="signin" hidden>
<h1>WikiStream</h1>
<p>This server needs its access token: the <code>--http-token</code> (or <code>WIKISTREAM_HTTP_TOKEN</code>) it was started with.</p>
<form><input type="password" name="token" autocomplete="current-password" aria-label="token" placeholder="token" required>
<button>Open the dashboard</button></form><p id="error" role="alert"></p></main>
<script>
(async () => {
  const KEY = "wikistream.token";
  const url = new URL(location.href);
  if (url.searchParams.has("token")) {
    sessionStorage.setItem(KEY, url.searchParams.get("token"));
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  const form = document.querySelector("form"), error = document.getElementById("error");
  const ask = (msg) => { error.textContent = msg; document.getElementById("signin").hidden = false; form.token.focus(); };
  const get = async (path, headers) => {
    const r = await fetch(path, { headers, cache: "no-store" });
    if (r.status === 401) throw new Error("401");
    if (!r.ok) throw new Error(path + " answered " + r.status);
    return r;
  };
  const open = async (token) => {
    const headers = { Authorization: "Bearer " + token };
    const doc = new DOMParser().parseFromString(await (await get("/index.html", headers)).text(), "text/html");
    const blob = async (path, type) => URL.createObjectURL(new Blob([await (await get(path, headers)).text()], { type }));
    const css = [], js = [];
    for (const l of doc.querySelectorAll('link[rel="stylesheet"][href]')) css.push(await blob(l.getAttribute("href"), "text/css"));
    for (const s of doc.querySelectorAll("script[src]")) js.push(await blob(s.getAttribute("src"), "text/javascript"));
    sessionStorage.setItem(KEY, token);
    document.getElementById("signin-style").remove();
    document.title = doc.title;
    document.body.replaceWith(document.importNode(doc.body, true));
    for (const href of css) document.head.append(Object.assign(document.createElement("link"), { rel: "stylesheet", href }));
    for (const src of js) document.head.append(Object.assign(document.createElement("script"), { type: "module", src }));
  };
  const attempt = async (token) => {
    try { await open(token); }
    catch (e) { ask(e.message === "401" ? "That token was refused: check it and try again." : "Could not load the dashboard: " + e.message); }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); attempt(form.token.value.trim()); });
  const saved = sessionStorage.getItem(KEY);
  if (saved) attempt(saved); else ask("");
})();
</script></body></html>
`

// notBuilt is the page / shows when the binary was built without the
// dashboard.
const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WikiStream: dashboard not built</title>
<style id="signin-style">body{font:15px system-ui,sans-serif;max-width:40em;margin:4em auto;color:#1f2937}code{background:#eef1f5;padding:2px 5px;border-radius:4px}</style>
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
