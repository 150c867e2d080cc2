package gen

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/recentchange"
)

// decodeNow is the ingest clock for decoding a generated sample: after its
// last event, so that no valid event is "in the future".
func decodeNow(cfg Config) time.Time {
	start := cfg.Start
	if start.IsZero() {
		start = DefaultStart
	}
	rate := cfg.Rate
	if rate == 0 {
		rate = DefaultRate
	}
	return start.Add(time.Duration(float64(cfg.Count)/rate*1.2*1e9) + 2*time.Hour)
}

// wantReason is what the decoder must say about each kind of malformed line.
var wantReason = map[malformedKind]recentchange.Reason{
	kindTruncated:       recentchange.ReasonNotJSON,
	kindNotJSON:         recentchange.ReasonNotJSON,
	kindMissingField:    recentchange.ReasonMissingField,
	kindWrongType:       recentchange.ReasonWrongType,
	kindUnknownType:     recentchange.ReasonUnknownType,
	kindImplausibleTime: recentchange.ReasonImplausibleTimestamp,
}

// TestDecoderAgrees runs every generated line through the real decoder:
// valid events decode, malformed lines fail with the reason their kind
// implies, duplicates repeat an earlier event id, and distinct events have
// distinct ids.
func TestDecoderAgrees(t *testing.T) {
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			cfg := allFaults(seed, 30000)
			cfg.Malformed = 0.1
			now := decodeNow(cfg)
			lines, kinds, st := generate(t, cfg)
			ids := map[string][]byte{} // event id -> the line
			reasons := map[recentchange.Reason]int{}
			dups := 0
			for i, line := range lines {
				e, err := recentchange.Decode(line, now, recentchange.DefaultLimits())
				switch k := kinds[i]; k {
				case kindValid, kindLate, kindDuplicate:
					if err != nil {
						t.Fatalf("line %d (kind %d): got %v, want a valid event\n%s", i, k, err, line)
					}
					id := e.EventID()
					prev, seen := ids[id]
					switch {
					case k == kindDuplicate && !seen:
						t.Fatalf("line %d: duplicate of an event not seen before (id %s)", i, id)
					case k == kindDuplicate && !bytes.Equal(prev, line):
						t.Fatalf("line %d: duplicate id %s with different bytes:\n%s\n%s", i, id, prev, line)
					case k != kindDuplicate && seen:
						t.Fatalf("line %d: event id %s of a distinct event collides with\n%s\n%s", i, id, prev, line)
					}
					if k == kindDuplicate {
						dups++
					}
					ids[id] = line
				default:
					if err == nil {
						t.Fatalf("line %d (malformed kind %d): decoded without error, want %s\n%q", i, k, wantReason[k], line)
					}
					got := recentchange.ReasonOf(err)
					if got != wantReason[k] {
						t.Fatalf("line %d (malformed kind %d): got reason %s (%v), want %s\n%q", i, k, got, err, wantReason[k], line)
					}
					reasons[got]++
				}
			}
			if got, want := len(ids), st.Events; got != want {
				t.Errorf("distinct event ids: got %d, want Stats.Events %d", got, want)
			}
			if dups != st.Duplicates {
				t.Errorf("duplicates: got %d, want Stats.Duplicates %d", dups, st.Duplicates)
			}
			for k, r := range wantReason {
				if reasons[r] == 0 {
					t.Errorf("no malformed line with reason %s (kind %d) in %d malformed lines", r, k, st.Malformed)
				}
			}
		})
	}
}

// TestFaultFractions checks the injected fractions against the config.
func TestFaultFractions(t *testing.T) {
	cases := []struct {
		name                  string
		dups, malformed, late float64
	}{
		{"none", 0, 0, 0},
		{"light", 0.01, 0.02, 0.01},
		{"heavy", 0.2, 0.1, 0.15},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Count = 40000
			cfg.Duplicates, cfg.Malformed, cfg.OutOfOrder = c.dups, c.malformed, c.late
			lines, kinds, st := generate(t, cfg)
			// Late events: valid events stamped earlier than an event before them.
			late, maxTS := 0, int64(0)
			seen := map[string]bool{}
			for i, line := range lines {
				if kinds[i] != kindValid && kinds[i] != kindLate {
					continue
				}
				metaID, ts := string(raw(line, `"id":`)), num(t, line, `"timestamp":`)
				if seen[metaID] {
					t.Fatalf("meta.id %s twice among non-duplicates", metaID)
				}
				seen[metaID] = true
				if ts < maxTS {
					late++
				}
				maxTS = max(maxTS, ts)
			}
			got := []struct {
				name      string
				got, want float64
			}{
				{"duplicates per event", float64(st.Duplicates) / float64(st.Events), c.dups},
				{"malformed per line", float64(st.Malformed) / float64(st.Lines()), c.malformed},
				{"late per event", float64(late) / float64(st.Events), c.late},
			}
			for _, g := range got {
				// Binomial: within 4 standard errors of 40,000 trials, plus 0.002.
				tol := 4*math.Sqrt(g.want*(1-g.want)/40000) + 0.002
				if math.Abs(g.got-g.want) > tol {
					t.Errorf("%s: got %.4f, want %.4f ± %.4f", g.name, g.got, g.want, tol)
				}
			}
		})
	}
}

// TestLateEventsAreLate checks how late the out-of-order events are: from
// seconds to hours behind the newest event already emitted.
func TestLateEventsAreLate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Count, cfg.Rate = 60000, 5 // 3.3 hours of event time
	cfg.OutOfOrder = 0.05
	lines, kinds, _ := generate(t, cfg)
	var maxTS int64
	var lags []int64
	for i, line := range lines {
		ts := num(t, line, `"timestamp":`)
		if kinds[i] == kindLate && maxTS > 0 {
			lags = append(lags, maxTS-ts)
		}
		maxTS = max(maxTS, ts)
	}
	short, long := 0, 0
	for _, l := range lags {
		if l < 60 {
			short++
		}
		if l > 3600 {
			long++
		}
	}
	if short == 0 || long == 0 {
		t.Errorf("late events: %d under a minute late, %d over an hour late, want both", short, long)
	}
}

// TestVandalBurst checks the injected burst has exactly the pattern the risk
// score must flag: one anonymous editor, more than 50 edits in one clock
// hour, more than 3 removing 1000 bytes or more, on more than 5 domains.
func TestVandalBurst(t *testing.T) {
	cases := []struct {
		name  string
		count int
		rate  float64
		burst int
	}{
		{"hours of traffic", 100000, 10, 80},
		{"short run", 100, 21, 60},
		{"no regular events", 0, 21, 55},
		{"fast rate", 50000, 2000, 120},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Count, cfg.Rate, cfg.VandalBurst = c.count, c.rate, c.burst
			cfg.Duplicates, cfg.OutOfOrder, cfg.Malformed = 0.01, 0.01, 0.01
			lines, kinds, st := generate(t, cfg)
			now := decodeNow(cfg)
			type key struct {
				user string
				hour int64
			}
			edits := map[key]int{}
			deletions := map[key]int{}
			domains := map[key]map[string]bool{}
			for i, line := range lines {
				if kinds[i] == kindDuplicate || kinds[i] > kindLate ||
					string(raw(line, `"type":`)) != "edit" || !isAnonymous(string(raw(line, `"user":`))) {
					continue
				}
				e, err := recentchange.Decode(line, now, recentchange.DefaultLimits())
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if e.Type != recentchange.TypeEdit || !isAnonymous(*e.User) {
					continue
				}
				k := key{*e.User, *e.Timestamp / 3600}
				edits[k]++
				if e.LengthDelta() <= -1000 {
					deletions[k]++
				}
				if domains[k] == nil {
					domains[k] = map[string]bool{}
				}
				domains[k][e.Domain()] = true
			}
			flagged := 0
			for k, n := range edits {
				if n > 50 {
					flagged++
					if deletions[k] <= 3 || len(domains[k]) <= 5 {
						t.Errorf("%s in hour %d: %d edits, %d large deletions, %d domains; want >50, >3, >5",
							k.user, k.hour, n, deletions[k], len(domains[k]))
					}
				}
			}
			if flagged != 1 {
				t.Errorf("anonymous editors with >50 edits in one clock hour: got %d, want exactly 1", flagged)
			}
			if st.Vandal != c.burst {
				t.Errorf("Stats.Vandal: got %d, want %d", st.Vandal, c.burst)
			}
		})
	}
}
