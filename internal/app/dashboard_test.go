package app

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wikistream/wikistream/internal/source"
	"github.com/wikistream/wikistream/internal/testtool"
	"github.com/wikistream/wikistream/internal/web/ui"
	"github.com/wikistream/wikistream/internal/web/webtest"
	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// The dashboard, end to end: `wikistream run` over real recorded events,
// the page in headless Chromium, every panel's numbers checked against
// figures this file computes from the events themselves (not through the
// SQL the server runs), a live update after more events reach gold, and
// screenshots kept under artifacts/dashboard (or $WIKISTREAM_ARTIFACTS).

// want is what the page must show, formatted as the dashboard does.
type want struct {
	webtest.Figures
	contributors, pages [][2]string // the first five
	risk                []string    // "entity|date|level|score", at most 30 as the feed shows
}

func expect(events []webtest.Event) want {
	w := want{Figures: webtest.Compute(events)}
	for _, c := range w.Contributors[:min(5, len(w.Contributors))] {
		w.contributors = append(w.contributors, [2]string{c.Name, num(c.N)})
	}
	for _, p := range w.Pages[:min(5, len(w.Pages))] {
		w.pages = append(w.pages, [2]string{p.Name, num(p.N)})
	}
	for _, r := range w.Risk[:min(30, len(w.Risk))] {
		w.risk = append(w.risk, fmt.Sprintf("%s|%s|%s|%d", r.Entity, r.Date, r.Level, r.Score))
	}
	return w
}

// batchSource emits its first batch at once and each later one when the
// test sends on more, then waits for the end of the run.
type batchSource struct {
	batches [][][]byte
	more    chan struct{}
}

func (s *batchSource) Name() string { return "dashboard-test" }

func (s *batchSource) Run(ctx context.Context, resume string, emit func(context.Context, source.Message) error) error {
	done, _ := strconv.Atoi(resume) // messages already acknowledged
	n := 0
	for i, b := range s.batches {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.more:
			}
		}
		for _, line := range b {
			n++
			if n <= done {
				continue
			}
			m := source.Message{Data: line, Position: strconv.Itoa(n), Where: fmt.Sprintf("batch %d", i)}
			if err := emit(ctx, m); err != nil {
				return err
			}
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// pageState is what the dashboard shows, read from the page.
type pageState struct {
	Refreshes    string `json:"refreshes"`
	Snapshot     string `json:"snapshot"`
	Live         string `json:"live"`
	Events       string `json:"events"`
	Human        string `json:"human"`
	Bots         string `json:"bots"`
	Anonymous    string `json:"anonymous"`
	ShareHuman   string `json:"share_human"`
	VelocityAll  string `json:"velocity_total"`
	VelocityPeak string `json:"velocity_peak"`
	// VelocitySeries are the velocity chart's series, |-separated.
	VelocitySeries string      `json:"velocity_series"`
	Regions        [][2]string `json:"regions"`
	Contributors   [][2]string `json:"contributors"`
	Pages          [][2]string `json:"pages"`
	Risk           []string    `json:"risk"`
	DQ             [3]string   `json:"dq"`
	Lag            string      `json:"lag"`
	DLQ            string      `json:"dlq"`
	Restarts       string      `json:"restarts"`
	Marker         bool        `json:"marker"`
	Errors         []string    `json:"errors"`
	// Clipped are the KPI values cut short by their tiles.
	Clipped []string `json:"clipped"`
}

const readPage = `(() => {
	const t = (s) => document.querySelector(s)?.textContent.trim() ?? "";
	const rows = (sel, key) => [...document.querySelectorAll(sel)].map((r) => [r.dataset[key], r.querySelector("[data-testid=edits], [data-testid=events]")?.textContent.trim() ?? ""]);
	return {
		refreshes: document.body.dataset.refreshes ?? "", snapshot: document.body.dataset.snapshot ?? "",
		live: t("[data-testid=live-status]"),
		events: t("[data-testid=kpi-events]"), human: t("[data-testid=kpi-human]"), bots: t("[data-testid=kpi-bots]"),
		anonymous: t("[data-testid=kpi-anonymous]"), share_human: t("[data-testid=share-human]"),
		velocity_total: t("[data-testid=velocity-total]"), velocity_peak: t("[data-testid=velocity-peak]"),
		velocity_series: document.querySelector(".panel-velocity .chart")?.dataset.series ?? "",
		regions: rows(".panel-regions tr[data-region]", "region"),
		contributors: rows(".panel-contributors tr[data-user]", "user").slice(0, 5),
		pages: rows(".panel-pages tr[data-page]", "page").slice(0, 5),
		risk: [...document.querySelectorAll(".panel-risk li.risk")].map((li) => [li.dataset.entity, li.dataset.date, li.dataset.level, li.querySelector("[data-testid=score]")?.textContent.trim()].join("|")),
		dq: [t("[data-testid=dq-passed]"), t("[data-testid=dq-failed]"), t("[data-testid=dq-errors]")],
		lag: t("[data-testid=pipe-lag]"), dlq: t("[data-testid=pipe-dlq]"), restarts: t("[data-testid=pipe-restarts]"),
		marker: window.__noReload === true,
		errors: [...document.querySelectorAll(".panel[data-state=error]")].map((p) => p.id + ": " + p.textContent.trim()),
		clipped: [...document.querySelectorAll(".kpi .value")].filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.dataset.testid + " " + e.textContent),
	};
})()`

// num formats n as the dashboard does: 12,345.
func num(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// mismatches lists how the page differs from the expected numbers.
func mismatches(got pageState, want want, dq [3]int) []string {
	var out []string
	check := func(what, g, w string) {
		if g != w {
			out = append(out, fmt.Sprintf("%s: got %q, want %q", what, g, w))
		}
	}
	check("edits", got.Events, num(want.Events))
	check("humans", got.Human, num(want.Human))
	check("bots", got.Bots, num(want.Bots))
	check("anonymous", got.Anonymous, num(want.Anonymous))
	check("share legend, humans", got.ShareHuman, num(want.Human))
	check("velocity total", got.VelocityAll, num(want.Events))
	check("velocity peak", got.VelocityPeak, num(want.VelocityPeak))
	regions := map[string]string{}
	for _, r := range got.Regions {
		regions[r[0]] = r[1]
	}
	wantRegions := map[string]string{}
	for r, n := range want.Regions {
		wantRegions[r] = num(n)
	}
	check("regions", fmt.Sprint(regions), fmt.Sprint(wantRegions))
	check("top contributors", fmt.Sprint(got.Contributors), fmt.Sprint(want.contributors))
	check("trending pages", fmt.Sprint(got.Pages), fmt.Sprint(want.pages))
	check("risk feed", strings.Join(got.Risk, "\n"), strings.Join(want.risk, "\n"))
	check("data quality", fmt.Sprint(got.DQ), fmt.Sprintf("[%s %s %s]", num(dq[0]), num(dq[1]), num(dq[2])))
	check("consumer lag", got.Lag, "0")
	check("restarts", got.Restarts, "0")
	if len(got.Errors) > 0 {
		out = append(out, fmt.Sprintf("panels in error: %v", got.Errors))
	}
	if len(got.Clipped) > 0 {
		out = append(out, fmt.Sprintf("KPI values cut short: %v", got.Clipped))
	}
	return out
}

func TestDashboardInBrowser(t *testing.T) {
	chromium := testtool.Look(t, "chromium")
	if _, ok := ui.Files(); !ok {
		if os.Getenv("WIKISTREAM_REQUIRE_TOOLS") == "1" {
			t.Fatal("the dashboard is not built into this binary: run make ui before the tests")
		}
		t.Skip("the dashboard is not built: run make ui")
	}
	// Real recorded events of two hours a day apart: a sample of each hour
	// first, more of the second hour later for the live update.
	clean, lines := webtest.Clean(t, ssetest.ReadLines(t, ssetest.SharedData(t, "camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz")))
	var first, second []int // indexes by hour of day
	for i, e := range clean {
		if e.Time().Day() == 24 {
			first = append(first, i)
		} else {
			second = append(second, i)
		}
	}
	if len(first) < 2500 || len(second) < 3500 {
		t.Fatalf("the capture has %d and %d clean events in its two hours; the test needs more", len(first), len(second))
	}
	pick := func(idx []int) ([][]byte, []webtest.Event) {
		var l [][]byte
		var r []webtest.Event
		for _, i := range idx {
			l, r = append(l, lines[i]), append(r, clean[i])
		}
		return l, r
	}
	l1, r1 := pick(append(first[:2500], second[:2500]...))
	l2, r2 := pick(second[2500:3500])
	want1, want2 := expect(r1), expect(append(r1, r2...))
	if len(want1.risk) == 0 || len(want1.contributors) < 5 || len(want1.pages) < 5 {
		t.Fatalf("the sample has %d risk entities, %d contributors, %d pages: too few to check the panels", len(want1.risk), len(want1.contributors), len(want1.pages))
	}

	// wikistream run, with a token as when it is bound off loopback.
	const token = "dashboard-test-token-0123456789"
	dir := t.TempDir()
	src := &batchSource{batches: [][][]byte{l1, l2}, more: make(chan struct{})}
	httpAddr, stopRun := startRun(t, dir, src, token)
	defer func() {
		if err := stopRun(); err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + httpAddr
	apiGet := func(path string, v any) error {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	// waitGold returns once gold holds n events.
	waitGold := func(n int) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		var s struct {
			Totals struct{ Events int } `json:"totals"`
		}
		for {
			err := apiGet("/api/v1/stats/summary?from=2023-01-01&to=2023-02-01", &s)
			if err == nil && s.Totals.Events == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("gold did not reach %d events within 90 s: %d, %v", n, s.Totals.Events, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	began := time.Now()
	waitGold(want1.Events)
	t.Logf("pipeline: %d events in gold after %s", want1.Events, time.Since(began).Round(time.Millisecond))
	// The data-quality run the dashboard shows, as the pipeline endpoint
	// reports it from the quality stage itself.
	var pipe struct {
		Quality *struct {
			Passed, Failed, Errors int
		} `json:"quality"`
	}
	for deadline := time.Now().Add(30 * time.Second); pipe.Quality == nil; time.Sleep(100 * time.Millisecond) {
		if err := apiGet("/api/v1/pipeline", &pipe); err != nil || time.Now().After(deadline) {
			t.Fatalf("no data-quality run reported by /api/v1/pipeline: %v", err)
		}
	}
	dq := [3]int{pipe.Quality.Passed, pipe.Quality.Failed, pipe.Quality.Errors}

	// The browser.
	actx, stop := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer stop()
	bctx, stopBrowser := chromedp.NewContext(actx)
	defer stopBrowser()
	bctx, stopTimeout := context.WithTimeout(bctx, 3*time.Minute)
	defer stopTimeout()
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/?token="+token+"#range=30d")); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	read := func() pageState {
		st, err := chromedp.Run(bctx, chromedp.Evaluate[pageState](readPage))
		if err != nil {
			t.Fatalf("read the page: %v", err)
		}
		return st
	}
	// until waits for the page to show want, and fails with what differs.
	until := func(what string, ok func(pageState) []string) pageState {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for {
			st := read()
			bad := ok(st)
			if len(bad) == 0 {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the dashboard does not show the expected numbers:\n%s", what, strings.Join(bad, "\n"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	st := until("first load", func(st pageState) []string {
		bad := mismatches(st, want1, dq)
		if !strings.HasPrefix(st.Live, "live") {
			bad = append(bad, fmt.Sprintf("live status %q, want live", st.Live))
		}
		if st.DLQ != "0.00%" {
			bad = append(bad, fmt.Sprintf("dead letters %q, want 0.00%%", st.DLQ))
		}
		return bad
	})
	address, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(address, token) {
		t.Errorf("the token stays in the address bar: %s", address)
	}
	shots := artifacts(t)
	screenshot(t, bctx, filepath.Join(shots, "dashboard-1280.png"))

	// Live: more events reach gold; the page shows them without a reload.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.__noReload = true`)); err != nil {
		t.Fatal(err)
	}
	close(src.more)
	waitGold(want2.Events)
	until("after the live update", func(got pageState) []string {
		bad := mismatches(got, want2, dq)
		if got.Snapshot == st.Snapshot {
			bad = append(bad, "no new gold snapshot reached the page")
		}
		if !got.Marker {
			bad = append(bad, "the page was reloaded")
		}
		return bad
	})
	screenshot(t, bctx, filepath.Join(shots, "dashboard-live-1280.png"))

	// Split by wiki: the six wikis with the most edits (ties by name, as
	// the server picks them) and the others together, the total the same.
	wikis := slices.Collect(maps.Keys(want2.Wikis))
	slices.SortFunc(wikis, func(a, b string) int { return cmp.Or(want2.Wikis[b]-want2.Wikis[a], strings.Compare(a, b)) })
	if len(wikis) <= 6 {
		t.Fatalf("the sample has %d wikis; the split by wiki needs more than 6", len(wikis))
	}
	split := func(by string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(document.querySelector("button[data-split=`+by+`]").click(), true)`)); err != nil {
			t.Fatal(err)
		}
	}
	split("wiki")
	until("split by wiki", func(got pageState) []string {
		var bad []string
		series := strings.Split(got.VelocitySeries, "|")
		if len(series) != 7 || series[6] != "other wikis" || !slices.Equal(slices.Sorted(slices.Values(series[:6])), slices.Sorted(slices.Values(wikis[:6]))) {
			bad = append(bad, fmt.Sprintf("velocity series %q, want %v and other wikis", got.VelocitySeries, wikis[:6]))
		}
		if got.VelocityAll != num(want2.Events) {
			bad = append(bad, fmt.Sprintf("velocity total %q, want %s", got.VelocityAll, num(want2.Events)))
		}
		return bad
	})
	screenshot(t, bctx, filepath.Join(shots, "dashboard-by-wiki-1280.png"))
	split("region")
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844), chromedp.Sleep(time.Second)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, bctx, filepath.Join(shots, "dashboard-390.png"))
	// What a phone shows first, at its own size.
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "dashboard-390-top.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	// Opened without the token, in a new tab (with its own sessionStorage):
	// the sign-in page refuses a wrong token and opens the dashboard with
	// the right one.
	tab, closeTab := chromedp.NewContext(bctx)
	defer closeTab()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the dashboard without the token: %v", err)
	}
	waitFor := func(what, js string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](js))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not shown (%v)", what, err)
			}
		}
	}
	signIn := func(tok string) {
		t.Helper()
		js := `(() => { const f = document.querySelector("form"); f.token.value = ` + strconv.Quote(tok) + `; f.requestSubmit(); return true })()`
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatalf("sign in: %v", err)
		}
	}
	waitFor("the sign-in form", `!!document.querySelector("#signin:not([hidden]) form")`)
	signIn("wrong-token-0123456789")
	waitFor("the refusal of a wrong token", `(document.getElementById("error") || {}).textContent?.includes("refused") === true`)
	signIn(token)
	waitFor("the dashboard after signing in, with its data", `(t => t?.includes("Edit velocity") && !t.includes("Loading"))((document.getElementById("app") || {}).innerText) === true`)
	screenshot(t, tab, filepath.Join(shots, "dashboard-signed-in-1280.png"))
	t.Logf("screenshots in %s", shots)
}

// artifacts is the folder screenshots go to: $WIKISTREAM_ARTIFACTS, or
// artifacts/ at the repository's root (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("WIKISTREAM_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(ssetest.RepoRoot(t), "artifacts")
	}
	dir = filepath.Join(dir, "dashboard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
