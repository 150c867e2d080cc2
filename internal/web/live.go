package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
)

// GET /api/v1/live streams server-sent events: on connecting, and then
// every time gold commits (once the engine has copied the commit into
// memory, see query.Engine.Refresh), an event "gold" whose data is the newest hour's
// totals per region and the day's HIGH risk count, with the gold snapshots
// they come from. A comment line every 15 s keeps proxies from closing an
// idle stream.

// liveUpdate is the data of one "gold" event.
type liveUpdate struct {
	At        time.Time        `json:"at"`
	Snapshots map[string]int64 `json:"snapshots"`
	// Hour is the newest hour gold holds, "2026-11-25T13".
	Hour    string           `json:"hour"`
	Regions []map[string]any `json:"regions"`
	// HighRisk counts the HIGH entities of the newest hour's day.
	HighRisk int64 `json:"high_risk"`
}

// live watches the gold tables and fans their updates out to subscribers.
type live struct {
	lh   *lakehouse.Lakehouse
	eng  *query.Engine
	poll time.Duration
	// read, when not nil, reads for each commit, before the update is
	// published, what the requests the update prompts would read alike
	// (the server's kept answers).
	read func(ctx context.Context) error

	mu   sync.Mutex
	subs map[chan []byte]bool
	last []byte // the newest update, sent to each new subscriber at once
}

// subscribe returns a channel of encoded updates and the cancel func.
func (l *live) subscribe() (chan []byte, func()) {
	ch := make(chan []byte, 4)
	l.mu.Lock()
	l.subs[ch] = true
	if l.last != nil {
		ch <- l.last
	}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// run polls the gold tables' snapshots until ctx ends and publishes an
// update whenever they change.
func (l *live) run(ctx context.Context, log func(msg string, args ...any)) {
	tick := time.NewTicker(l.poll)
	defer tick.Stop()
	var seen string
	for {
		heads := map[string]int64{}
		for _, ident := range lakehouse.GoldTables() {
			if tbl, err := l.lh.Load(ctx, ident); err == nil && tbl.CurrentSnapshot() != nil {
				heads[lakehouse.Name(ident)] = tbl.CurrentSnapshot().SnapshotID
			}
		}
		if key := fmt.Sprint(heads); len(heads) > 0 && key != seen {
			// The engine copies new snapshots of its resident tables in
			// the background; have it do so now, so that this update and
			// the dashboard refresh it prompts read the commit from
			// memory. A failed copy is the engine's to log: queries then
			// read the files.
			l.eng.Refresh(ctx)
			l.lh.Gate().Yield(ctx) // requests first (package priority)
			if l.read != nil {
				if err := l.read(ctx); err != nil && ctx.Err() == nil {
					log("live update: reading ahead failed", "err", err)
				}
			}
			if b, err := l.update(ctx, heads); err != nil {
				if ctx.Err() == nil {
					log("live update failed", "err", err)
				}
			} else {
				seen = key
				l.publish(b)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (l *live) update(ctx context.Context, heads map[string]int64) ([]byte, error) {
	u := liveUpdate{At: time.Now().UTC(), Snapshots: heads, Regions: []map[string]any{}}
	res, err := l.eng.Query(ctx, `WITH newest AS (
			SELECT stat_date, stat_hour FROM gold.hourly_stats ORDER BY stat_date DESC, stat_hour DESC LIMIT 1)
		SELECT stat_date || 'T' || lpad(stat_hour::VARCHAR, 2, '0') AS hour, region, sum(total_events)::BIGINT AS events,
			sum(bot_events)::BIGINT AS bots, sum(anonymous_events)::BIGINT AS anonymous, sum(human_events)::BIGINT AS human
		FROM gold.hourly_stats JOIN newest USING (stat_date, stat_hour) GROUP BY ALL ORDER BY events DESC, region`, query.At{})
	if err != nil {
		return nil, err
	}
	for _, row := range rowsJSON(res) {
		u.Hour = fmt.Sprint(row["hour"])
		delete(row, "hour")
		u.Regions = append(u.Regions, row)
	}
	if u.Hour != "" {
		day := u.Hour[:len(time.DateOnly)]
		since, _ := time.Parse(time.DateOnly, day) // zero (every file) if gold's date were not one
		// HIGH rows have the level's scores, which gold writes first in
		// each file: DuckDB reads the day's first row groups only.
		res, err := l.eng.Query(ctx, `SELECT count(*) FROM gold.risk_scores WHERE risk_level = 'HIGH' AND stat_date = '`+
			day+`' AND risk_score >= `+strconv.Itoa(gold.HighScore), query.At{Since: since})
		if err == nil && len(res.Rows) == 1 {
			u.HighRisk, _ = res.Rows[0][0].(int64)
		}
	}
	return json.Marshal(u)
}

func (l *live) publish(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = b
	for ch := range l.subs {
		select {
		case ch <- b:
		default: // a slow client misses an update, never blocks the others
		}
	}
}

// RunLive watches gold for /api/v1/live until ctx ends; Serve runs it.
func (s *Server) RunLive(ctx context.Context) {
	if s.live != nil {
		s.warmDashboard(ctx)
		s.live.run(ctx, s.log.Warn)
	}
}

// liveHandler serves GET /api/v1/live.
func (s *Server) liveHandler(w http.ResponseWriter, r *http.Request) {
	if s.live == nil {
		writeError(w, http.StatusNotFound, "live updates need the lakehouse (wikistream run or serve)")
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush()
	ch, cancel := s.live.subscribe()
	defer cancel()
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case b := <-ch:
			fmt.Fprintf(w, "event: gold\ndata: %s\n\n", b)
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
