// Package web is WikiStream's HTTP surface: the dashboard, health, metrics,
// and the JSON API. It binds to loopback by default; bound anywhere else it
// requires a bearer token on every request except /healthz (DESIGN.md
// section 6); opening the dashboard without it gives a page that asks for
// it.
package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/priority"
	"github.com/wikistream/wikistream/internal/query"
)

// Config configures the server.
type Config struct {
	// Addr is host:port. Default 127.0.0.1:8080.
	Addr string
	// Token is the bearer token every request but /healthz must carry. It
	// is required when Addr is not a loopback address.
	Token string
	// MaxBodyBytes bounds a request body. Default 64 KiB.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Now is the clock the default time ranges end at. Default time.Now.
	Now func() time.Time
	// Lakehouse, when set, enables /api/v1/live, which polls the gold
	// tables every LivePoll (default 250ms) for new commits.
	Lakehouse *lakehouse.Lakehouse
	LivePoll  time.Duration
	// Dashboard replaces the embedded dashboard files (index.html and
	// assets/) when set; tests use it.
	Dashboard fs.FS
	// Gate is held open by every API request while it runs, so that the
	// process's background work (commits, in-memory copies, the live
	// update) waits for it (package priority). Default: the Lakehouse's
	// gate, or priority.Process without one.
	Gate *priority.Gate
}

// Validate reports the first bad setting: above all, a non-loopback
// address without a token.
func (c Config) Validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--http %q: want host:port such as 127.0.0.1:8080: %w", c.Addr, err)
	}
	if !IsLoopback(host) && c.Token == "" {
		return fmt.Errorf("--http %s is not a loopback address: set --http-token (or WIKISTREAM_HTTP_TOKEN) so that every request must carry it, or bind to 127.0.0.1", c.Addr)
	}
	if c.Token != "" && len(c.Token) < 16 {
		return errors.New("--http-token: want at least 16 characters (a random token, e.g. openssl rand -hex 16)")
	}
	return nil
}

// IsLoopback reports whether host names only this machine: localhost, or
// an IP address in 127.0.0.0/8 or ::1. An empty host (every interface) is
// not.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startTime is the Last-Modified of the embedded files.
var startTime = time.Now()

// Server is the HTTP handler of a WikiStream process.
type Server struct {
	cfg  Config
	mux  *http.ServeMux
	eng  *query.Engine
	log  *slog.Logger
	live *live // nil without a lakehouse
	// newestDays keeps the top lists' newest whole day per daily rollup
	// snapshot.
	newestDays newestDays
	// extent keeps gold's extent per snapshot of the hourly statistics.
	extent keptExtent
	// closed keeps the top lists' rankings of whole days per daily rollup
	// snapshot.
	closed closedTops
	// feedDays and countDays keep the risk feed's rows and the summary's
	// risk counts of each day of gold.risk_scores (riskdays.go).
	feedDays  riskDays[riskHead]
	countDays riskDays[riskCounts]
	// warm are the top lists whose kept rankings the live poller reads
	// ahead (warm.go).
	warm warmLists
	// closing is closed when Serve begins shutting down: streaming
	// handlers end then, or Shutdown would wait for them.
	closing chan struct{}
}

// ResidentTables are the tables to name in query.Config.Resident for the
// engine behind a Server: gold.hourly_stats, which the API reads on almost
// every request, and the hourly rollups behind the top lists; each changes
// at most once per gold run, and a copy in DuckDB memory answers in a
// fraction of the time it takes to open their many small Parquet files (see
// docs/PERFORMANCE.md). A table grown past the engine's ResidentMaxBytes
// keeps its newest files in memory (ResidentWindows).
// gold.risk_scores is not: its queries are fast on files, and each gold run
// rewrites the current day, whose evidence JSON is costly to copy.
func ResidentTables() []string {
	return []string{lakehouse.Name(lakehouse.GoldHourlyStats), lakehouse.Name(lakehouse.GoldContributorsHourly),
		lakehouse.Name(lakehouse.GoldPagesHourly), lakehouse.Name(lakehouse.GoldContributorsDaily),
		lakehouse.Name(lakehouse.GoldPagesDaily)}
}

// QueryConfig is the query engine's configuration for a Server: its
// resident and planned tables (below); the other fields are the defaults.
func QueryConfig() query.Config {
	return query.Config{Resident: ResidentTables(), ResidentWindow: ResidentWindows(),
		ResidentWindowSpan: ResidentWindowSpan, ResidentOrder: ResidentOrder(), Planned: PlannedTables(),
		SinceColumn: SinceColumns(), Threads: QueryThreads()}
}

// QueryThreads is the default number of DuckDB threads of the API's
// engine: the machine's cores but one, and at least one. On two cores a
// query runs on one thread, and the other core is left to the pipeline
// and to the dashboard's other requests (it sends seven at once): with
// the pipeline running live, the 30-day lists' medians were 3-7 ms lower
// and a dashboard refresh's slowest request 15-25 ms faster than with two
// threads (docs/PERFORMANCE.md, session 18). A single large query (SQL
// over silver, a week's top lists at the live feed's volume) is slower
// for it; --query-threads sets it.
func QueryThreads() int { return max(1, runtime.NumCPU()-1) }

// ResidentOrder sorts the in-memory copy of gold.pages_hourly for the
// trending pages' ranking (rankedSQL.ranking): the rows it bounds the list
// by (boundEdits or more edits) first, then the rest, each by hour. Its
// bound then reads the titles of a few of the copy's vectors instead of
// all of them: the 24-hour list without bots over a production-sized day
// took 38-50 ms instead of 55-63, and a 6-hour list took no longer
// (docs/PERFORMANCE.md).
func ResidentOrder() map[string]string {
	return map[string]string{lakehouse.Name(lakehouse.GoldPagesHourly): fmt.Sprintf("edits >= %d DESC, hour_start", boundEdits),
		lakehouse.Name(lakehouse.GoldPagesDaily): fmt.Sprintf("edits >= %d DESC, day_start", boundEdits)}
}

// ResidentWindowSpan bounds the windowed copies (ResidentWindows) to the
// dashboard's short ranges (6 and 24 hours) with a day to spare: a week of
// every wiki's contributors fits four and a half days in the resident
// limit, which only the 7- and 30-day lists would read, and those read the
// files anyway.
const ResidentWindowSpan = 48 * time.Hour

// ResidentWindows are the window columns to name in
// query.Config.ResidentWindow for the ResidentTables: past the engine's
// ResidentMaxBytes (a few days of every wiki's page-hours), the newest
// hours stay in memory and the older ones are read from their files only
// by ranges that reach them, which the dashboard's default day does not.
// The API filters the rollups by hour_start and gold.hourly_stats by
// stat_date.
func ResidentWindows() map[string]string {
	return map[string]string{lakehouse.Name(lakehouse.GoldHourlyStats): "stat_date",
		lakehouse.Name(lakehouse.GoldContributorsHourly): "hour_start", lakehouse.Name(lakehouse.GoldPagesHourly): "hour_start",
		lakehouse.Name(lakehouse.GoldContributorsDaily): "day_start", lakehouse.Name(lakehouse.GoldPagesDaily): "day_start"}
}

// PlannedTables are the tables to name in query.Config.Planned for the
// engine behind a Server: the one the API reads from its files that
// commits about once a second while the pipeline runs live,
// gold.risk_scores (summary, risk feed). The engine plans its new
// snapshots in the background, so that a request finds the plan of the
// current snapshot ready instead of reading the manifests itself. The API
// no longer reads silver (the top lists come from gold's rollups, the risk
// feed's links from its evidence), so silver is not planned ahead: SQL
// over it plans on the request.
func PlannedTables() []string {
	return []string{lakehouse.Name(lakehouse.GoldRiskScores)}
}

// SinceColumns are the columns to name in query.Config.SinceColumn: the
// risk feed and the summary read gold.risk_scores over a range of days,
// and with At.Since their views list only the days' files, where DuckDB
// opened every day's file to prune it (the one-day summary read 30 files
// of a month for one or two; docs/PERFORMANCE.md, session 17).
func SinceColumns() map[string]string {
	return map[string]string{lakehouse.Name(lakehouse.GoldRiskScores): "stat_date"}
}

// New builds the server over the SQL engine eng (nil: no /api/v1/query).
// Routes other packages serve (/metrics, /readyz) are added with Handle.
func New(cfg Config, eng *query.Engine) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Gate == nil {
		cfg.Gate = priority.Process
		if cfg.Lakehouse != nil {
			cfg.Gate = cfg.Lakehouse.Gate()
		}
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), eng: eng, log: log, closing: make(chan struct{})}
	if cfg.Lakehouse != nil && eng != nil {
		poll := cfg.LivePoll
		if poll <= 0 {
			poll = 250 * time.Millisecond
		}
		s.live = &live{lh: cfg.Lakehouse, eng: eng, poll: poll, subs: map[chan []byte]bool{},
			read: s.tryReadAhead}
	}
	for pattern, h := range s.routes() {
		if eng != nil || pattern == "GET /healthz" {
			s.mux.HandleFunc(pattern, h)
		}
	}
	return s, nil
}

// routes are the server's own routes (api/openapi.yaml documents them).
func (s *Server) routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"GET /":                        s.dashboard,
		"GET /healthz":                 func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") },
		"POST /api/v1/query":           s.query,
		"GET /api/v1/stats/hourly":     s.statsHourly,
		"GET /api/v1/stats/regions":    s.statsRegions,
		"GET /api/v1/risk":             s.risk,
		"GET /api/v1/live":             s.liveHandler,
		"GET /api/v1/stats/summary":    s.summary,
		"GET /api/v1/stats/wikis":      s.wikis,
		"GET /api/v1/top/contributors": s.topContributors,
		"GET /api/v1/top/pages":        s.trendingPages,
		"GET /api/v1/quality":          s.qualityStatus,
	}
}

// Routes lists the method and path of every route a Server with an SQL
// engine serves.
func Routes() []string {
	var out []string
	for pattern := range (&Server{}).routes() {
		out = append(out, pattern)
	}
	slices.Sort(out)
	return out
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// Handle adds a route, such as "GET /metrics".
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP checks the token, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token != "" && r.URL.Path != "/healthz" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wikistream"`)
		if isDashboardPage(r) {
			// A browser opening the dashboard cannot send the header: the
			// refusal is a page that asks for the token and loads the
			// dashboard with it.
			signIn(w)
			return
		}
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token: send Authorization: Bearer <token> (the --http-token of the server)")
		return
	}
	if foreground(r) {
		defer s.cfg.Gate.Enter()()
	}
	s.mux.ServeHTTP(w, r)
}

// foreground reports whether r is a request someone waits for, which the
// process's background work yields to: the API's, but the live stream,
// which stays open.
func foreground(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/v1/live"
}

func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

// Serve serves on ln until ctx ends, then shuts down within 5 s.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // ends when Shutdown below returns
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	go s.RunLive(liveCtx) // ends with liveCtx
	select {
	case err := <-done:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	close(s.closing)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	return err
}

// queryRequest is the body of POST /api/v1/query.
type queryRequest struct {
	SQL string `json:"sql"`
	// Snapshot reads the table it belongs to as of that snapshot; AsOf
	// (RFC 3339) reads every table as of that instant.
	Snapshot int64     `json:"snapshot,omitempty"`
	AsOf     time.Time `json:"as_of,omitzero"`
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// queryResponse is the answer of POST /api/v1/query.
type queryResponse struct {
	Columns   []column         `json:"columns"`
	Rows      [][]any          `json:"rows"`
	Truncated bool             `json:"truncated"`
	Snapshots map[string]int64 `json:"snapshots"`
	Seconds   float64          `json:"seconds"`
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	var req queryRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, `body: want JSON {"sql": "SELECT ..."}: `+err.Error())
		return
	}
	if strings.TrimSpace(req.SQL) == "" {
		writeError(w, http.StatusBadRequest, `body: "sql" is empty`)
		return
	}
	began := time.Now()
	res, err := s.eng.Query(r.Context(), req.SQL, query.At{Snapshot: req.Snapshot, AsOf: req.AsOf})
	switch {
	case errors.Is(err, query.ErrReadOnly):
		writeError(w, http.StatusForbidden, err.Error())
		return
	case errors.Is(err, query.ErrTimeout):
		writeError(w, http.StatusRequestTimeout, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := queryResponse{Rows: make([][]any, len(res.Rows)), Truncated: res.Truncated, Snapshots: res.Snapshots,
		Seconds: time.Since(began).Seconds()}
	for j, name := range res.Columns {
		c := column{Name: name}
		if j < len(res.Types) {
			c.Type = res.Types[j]
		}
		out.Columns = append(out.Columns, c)
	}
	for i := range res.Rows {
		out.Rows[i] = make([]any, len(res.Columns))
		for j := range res.Columns {
			out.Rows[i][j] = res.JSONValue(i, j)
		}
	}
	if out.Snapshots == nil {
		out.Snapshots = map[string]int64{}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if m, ok := v.(map[string]any); ok {
		if b, err := appendObject(nil, m); err == nil {
			w.Write(append(b, '\n'))
			return
		}
	}
	json.NewEncoder(w).Encode(v)
}

// appendObject appends m as encoding/json encodes it (keys sorted, HTML
// escaped), but for the rows of a result (jsonRows), whose JSON it appends
// as they make it: encoding/json checks and compacts what a Marshaler
// returns, 7 of the 41 ms of the month's velocity by wiki (5,040 rows).
func appendObject(b []byte, m map[string]any) ([]byte, error) {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b = append(append(b, key...), ':')
		var val []byte
		if rows, ok := m[k].(jsonRows); ok {
			val, err = rows.MarshalJSON()
		} else {
			val, err = json.Marshal(m[k])
		}
		if err != nil {
			return nil, err
		}
		b = append(b, val...)
	}
	return append(b, '}'), nil
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
