package quality

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// Kind is what a check measures. The values are stored in ops.dq_results.
type Kind string

// The kinds of check.
const (
	// KindCompleteness: the columns are neither NULL nor blank.
	KindCompleteness Kind = "completeness"
	// KindUniqueness: no two rows share the values of the columns.
	KindUniqueness Kind = "uniqueness"
	// KindAllowedValues: the column holds only the listed values (NULL
	// passes, as in Deequ: completeness is a check of its own).
	KindAllowedValues Kind = "allowed_values"
	// KindRange: the column lies within bounds (NULL passes), or no row
	// satisfies a violation predicate.
	KindRange Kind = "range"
	// KindReconciliation: a table holds exactly what its upstream table
	// holds as of the upstream snapshot the table has read.
	KindReconciliation Kind = "reconciliation"
	// KindFreshness: the table's newest commit, or its lag behind its
	// upstream table, is younger than a threshold.
	KindFreshness Kind = "freshness"
	// KindVolume: rows arriving in the last complete hour are within the
	// usual variation of the trailing hours.
	KindVolume Kind = "volume"
)

// Kinds lists every kind.
var Kinds = []Kind{KindCompleteness, KindUniqueness, KindAllowedValues, KindRange, KindReconciliation, KindFreshness, KindVolume}

// Status is the outcome of one check. The values are stored in
// ops.dq_results.
type Status string

// The outcomes.
const (
	// StatusPass: the expectation holds (or there was nothing to check yet;
	// the result's Observed says so).
	StatusPass Status = "pass"
	// StatusFail: the data breaks the expectation; Detail holds evidence.
	StatusFail Status = "fail"
	// StatusError: the check could not be evaluated; Detail holds the error.
	StatusError Status = "error"
)

// Check is one declarative data-quality check: data, not code. The fields
// that apply depend on Kind; Validate says which are missing.
type Check struct {
	// Name identifies the check within a run, such as
	// "silver.event_id_unique". It is the check column of ops.dq_results.
	Name string
	// Table is the table checked.
	Table table.Identifier
	// Kind is what is measured.
	Kind Kind
	// Description says in a sentence what the check guarantees.
	Description string

	// Columns are the columns of the row-level kinds: each must be
	// complete (completeness), together unique (uniqueness), or the one
	// column whose values are allowed or bounded (allowed_values, range).
	Columns []string
	// Allowed are the values an allowed_values column may hold.
	Allowed []string
	// Min and Max bound a range column, inclusive.
	Min, Max float64
	// Violation, when set, is a SQL predicate that is true for an offending
	// row; it replaces what Columns, Allowed, Min and Max would test.
	Violation string
	// Where, when set, is a SQL predicate selecting the rows the check
	// applies to.
	Where string
	// Sample are the columns shown for offending rows (default: the
	// table's key and Columns).
	Sample []string
	// MaxFraction is the share of rows (0 to 1) allowed to offend. Default
	// 0: none.
	MaxFraction float64

	// Reconcile is the specification of a reconciliation.
	Reconcile *Reconcile
	// Freshness is the specification of a freshness check.
	Freshness *Freshness
	// Volume is the specification of a volume check.
	Volume *Volume
}

// Reconcile compares a table with its upstream table read as of the
// upstream snapshot that the table's current snapshot records as read (its
// checkpoint), so that a downstream stage that lags is not a failure.
//
// SQL and UpstreamSQL are queries over Table and Upstream that return three
// VARCHAR columns: grp, a date (YYYY-MM-DD) that the comparison proceeds by;
// k, the key; and v, the values that must agree. The table must hold each
// (grp, k, v) of the upstream exactly once.
type Reconcile struct {
	Upstream    table.Identifier
	SQL         string
	UpstreamSQL string
	// UpstreamDistinct compares with the distinct rows of UpstreamSQL
	// (bronze may hold a row twice; silver must hold it once).
	UpstreamDistinct bool
	// Expect says what must agree, for people: "silver rows = distinct
	// bronze event_ids".
	Expect string
}

// Freshness bounds how stale a table may be.
type Freshness struct {
	// Upstream, when set, measures the table's lag behind it: the age of the
	// oldest upstream commit that added data the table has not read (0 when
	// it has read everything, however idle the pipeline). When empty, the
	// age of the table's newest commit is measured.
	Upstream table.Identifier
	// MaxAge is the largest age (or lag) that passes.
	MaxAge time.Duration
	// EventColumn, when set, is a timestamp column whose newest value is
	// reported with the result.
	EventColumn string
}

// Volume compares the rows that arrived in the last complete hour with the
// trailing hours before it.
type Volume struct {
	// TimeColumn is the SQL expression of a row's arrival time.
	TimeColumn string
	// Window is how many trailing hours make the baseline. Default 24.
	Window int
	// Z is how many standard deviations from the baseline mean fail.
	// The deviation is at least the square root of the mean (counting
	// noise) and at least 1. Default 4.
	Z float64
	// MinRows: an hour is judged only when it or the baseline mean has at
	// least this many rows. Default 100.
	MinRows int64
	// Spikes and Drops say which direction fails.
	Spikes, Drops bool
}

// Validate reports the first missing or bad field, naming the check.
func (c Check) Validate() error {
	if c.Name == "" {
		return errors.New("data-quality check: empty name")
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("data-quality check %s: %s", c.Name, fmt.Sprintf(format, args...))
	}
	if len(c.Table) != 2 {
		return bad("table %q: want a two-part name such as silver.cleaned_events", lakehouse.Name(c.Table))
	}
	if c.MaxFraction < 0 || c.MaxFraction > 1 {
		return bad("max fraction %g: want 0 to 1", c.MaxFraction)
	}
	switch c.Kind {
	case KindCompleteness, KindUniqueness:
		if len(c.Columns) == 0 {
			return bad("%s needs Columns", c.Kind)
		}
	case KindAllowedValues:
		if c.Violation == "" && (len(c.Columns) != 1 || len(c.Allowed) == 0) {
			return bad("allowed_values needs one column and its Allowed values, or a Violation predicate")
		}
	case KindRange:
		if c.Violation == "" && (len(c.Columns) != 1 || c.Min > c.Max) {
			return bad("range needs one column with Min <= Max, or a Violation predicate")
		}
	case KindReconciliation:
		r := c.Reconcile
		if r == nil || len(r.Upstream) != 2 || r.SQL == "" || r.UpstreamSQL == "" {
			return bad("reconciliation needs Reconcile with Upstream, SQL and UpstreamSQL")
		}
	case KindFreshness:
		if c.Freshness == nil || c.Freshness.MaxAge <= 0 {
			return bad("freshness needs Freshness with a positive MaxAge")
		}
		if u := c.Freshness.Upstream; len(u) != 0 && len(u) != 2 {
			return bad("freshness upstream %q: want a two-part name", lakehouse.Name(u))
		}
	case KindVolume:
		v := c.Volume
		if v == nil || v.TimeColumn == "" {
			return bad("volume needs Volume with a TimeColumn")
		}
		if v.Window < 0 || v.Z < 0 || v.MinRows < 0 {
			return bad("volume window %d, z %g, min rows %d: want none negative", v.Window, v.Z, v.MinRows)
		}
		if !v.Spikes && !v.Drops {
			return bad("volume fails on neither spikes nor drops; set one")
		}
	default:
		return bad("kind %q: want one of %v", c.Kind, Kinds)
	}
	return nil
}

// validateChecks validates every check and that names are unique.
func validateChecks(checks []Check) error {
	seen := map[string]bool{}
	for _, c := range checks {
		if err := c.Validate(); err != nil {
			return err
		}
		if seen[c.Name] {
			return fmt.Errorf("data-quality check %s is defined twice", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// tableInfo is what the checks know of a table: the date column that its
// partitions and the lookback go by, and its key (the default sample).
type tableInfo struct {
	date string
	key  []string
}

// tables are the tables the built-in checks read.
var tables = map[string]tableInfo{
	lakehouse.Name(lakehouse.BronzeRawEvents):     {"event_date", []string{"event_id"}},
	lakehouse.Name(lakehouse.BronzeDLQEvents):     {"ingest_date", []string{"dlq_id"}},
	lakehouse.Name(lakehouse.SilverCleanedEvents): {"event_date", []string{"event_id"}},
	lakehouse.Name(lakehouse.GoldHourlyStats):     {"stat_date", []string{"stat_date", "stat_hour", "domain"}},
	lakehouse.Name(lakehouse.GoldRiskScores):      {"stat_date", []string{"stat_date", "entity_id"}},
	lakehouse.Name(lakehouse.GoldContributorsHourly): {"stat_date",
		[]string{"stat_date", "stat_hour", "domain", "user_normalized", "is_bot", "is_anonymous"}},
	lakehouse.Name(lakehouse.GoldPagesHourly): {"stat_date", []string{"stat_date", "stat_hour", "domain", "title", "is_bot"}},
}

// EventTypes are the recentchange types (DESIGN.md).
var EventTypes = []string{"edit", "new", "log", "categorize", "external"}

// Regions are the regions of silver and gold (DESIGN.md).
var Regions = []string{"asia_pacific", "europe", "americas", "middle_east", "other"}

// RiskLevels are gold.risk_scores' levels.
var RiskLevels = []string{"HIGH", "MEDIUM", "LOW"}

// DLQReasons are the reasons bronze.dlq_events holds: the decoder's
// (recentchange.Reasons), "invalid" (ingest, when an error has none) and
// "unknown" (bronze, for a dead letter without a reason header).
var DLQReasons = []string{"not_json", "missing_field", "wrong_type", "unknown_type", "implausible_timestamp", "oversize",
	"invalid", "unknown"}

// human writes a duration for people: "15m", "7 days".
func human(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		if d == 24*time.Hour {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// interval is a DuckDB interval literal of d, to the second.
func interval(d time.Duration) string {
	return fmt.Sprintf("INTERVAL '%d seconds'", int64(d/time.Second))
}

// DefaultChecks are the built-in checks with the thresholds of cfg, table by
// table in the order data flows. Freshness checks whose threshold is 0 are
// left out.
func DefaultChecks(cfg Config) []Check {
	bronze, dlq := lakehouse.BronzeRawEvents, lakehouse.BronzeDLQEvents
	silver, hourly, risk := lakehouse.SilverCleanedEvents, lakehouse.GoldHourlyStats, lakehouse.GoldRiskScores
	arrival := "coalesce(ingested_at, bronze_processed_at)"
	vol := func(col string, spikes, drops bool) *Volume {
		return &Volume{TimeColumn: col, Window: cfg.VolumeWindow, Z: cfg.VolumeZ, MinRows: cfg.VolumeMinRows,
			Spikes: spikes, Drops: drops}
	}
	var checks []Check
	add := func(c ...Check) { checks = append(checks, c...) }

	// bronze.raw_events
	add(Check{Name: "bronze.event_id_complete", Table: bronze, Kind: KindCompleteness, Columns: []string{"event_id"},
		Description: "every bronze row has an event_id"},
		Check{Name: "bronze.event_id_unique", Table: bronze, Kind: KindUniqueness, Columns: []string{"event_id"},
			Description: "bronze holds each event once (MERGE on event_id)"},
		Check{Name: "bronze.event_type_allowed", Table: bronze, Kind: KindAllowedValues, Columns: []string{"event_type"},
			Allowed: EventTypes, Description: "event_type is a known recentchange type"},
		Check{Name: "bronze.event_timestamp_not_future", Table: bronze, Kind: KindRange,
			Violation:   fmt.Sprintf("event_timestamp > %s + %s", arrival, interval(cfg.FutureTolerance)),
			Sample:      []string{"event_id", "event_timestamp", "ingested_at", "source"},
			Description: fmt.Sprintf("no event is stamped more than %s after it was ingested", human(cfg.FutureTolerance))})
	if cfg.LateWindow > 0 {
		add(Check{Name: "bronze.event_timestamp_within_late_window", Table: bronze, Kind: KindRange,
			Where:     "source LIKE '%://%'",
			Violation: fmt.Sprintf("event_timestamp < %s - %s", arrival, interval(cfg.LateWindow)),
			Sample:    []string{"event_id", "event_timestamp", "ingested_at", "source"},
			Description: fmt.Sprintf("no event read from EventStreams is more than %s older than its ingest "+
				"(files replay archives: they are exempt)", human(cfg.LateWindow))})
	}
	if cfg.MaxSourceAge > 0 {
		add(Check{Name: "bronze.freshness", Table: bronze, Kind: KindFreshness,
			Freshness:   &Freshness{MaxAge: cfg.MaxSourceAge, EventColumn: "event_timestamp"},
			Description: fmt.Sprintf("bronze committed within the last %s (ingest and bronze are alive)", human(cfg.MaxSourceAge))})
	}
	add(Check{Name: "bronze.volume", Table: bronze, Kind: KindVolume, Volume: vol(arrival, true, true),
		Description: "events ingested in the last complete hour are within the trailing hours' variation"})

	// bronze.dlq_events
	add(Check{Name: "dlq.dlq_id_complete", Table: dlq, Kind: KindCompleteness, Columns: []string{"dlq_id"},
		Description: "every dead letter has a dlq_id"},
		Check{Name: "dlq.dlq_id_unique", Table: dlq, Kind: KindUniqueness, Columns: []string{"dlq_id"},
			Description: "the DLQ holds each dead letter once"},
		Check{Name: "dlq.reason_allowed", Table: dlq, Kind: KindAllowedValues, Columns: []string{"reason"},
			Allowed: DLQReasons, Sample: []string{"dlq_id", "reason", "source_position"},
			Description: "every dead letter has a machine-readable reason"},
		Check{Name: "dlq.volume", Table: dlq, Kind: KindVolume, Volume: vol("first_seen", true, false),
			Description: "dead letters in the last complete hour do not spike above the trailing hours"})

	// silver.cleaned_events
	add(Check{Name: "silver.event_id_complete", Table: silver, Kind: KindCompleteness, Columns: []string{"event_id"},
		Description: "every silver row has an event_id"},
		Check{Name: "silver.event_id_unique", Table: silver, Kind: KindUniqueness, Columns: []string{"event_id"},
			Description: "silver holds each event once"},
		Check{Name: "silver.event_type_allowed", Table: silver, Kind: KindAllowedValues, Columns: []string{"event_type"},
			Allowed: EventTypes, Description: "event_type is a known recentchange type"},
		Check{Name: "silver.region_allowed", Table: silver, Kind: KindAllowedValues, Columns: []string{"region"},
			Allowed: Regions, Sample: []string{"event_id", "domain", "region"},
			Description: "region is one of the five regions"},
		Check{Name: "silver.event_timestamp_not_future", Table: silver, Kind: KindRange,
			Violation:   fmt.Sprintf("event_timestamp > silver_processed_at + %s", interval(cfg.FutureTolerance)),
			Sample:      []string{"event_id", "event_timestamp", "silver_processed_at"},
			Description: fmt.Sprintf("no event is stamped more than %s after silver processed it", human(cfg.FutureTolerance))},
		Check{Name: "silver.partition_matches_timestamp", Table: silver, Kind: KindRange,
			Violation:   "event_date <> strftime(event_timestamp, '%Y-%m-%d') OR event_hour <> hour(event_timestamp)",
			Sample:      []string{"event_id", "event_timestamp", "event_date", "event_hour"},
			Description: "event_date and event_hour are the UTC date and hour of event_timestamp"},
		Check{Name: "silver.reconciles_with_bronze", Table: silver, Kind: KindReconciliation,
			Reconcile: &Reconcile{Upstream: bronze, UpstreamDistinct: true,
				SQL: `SELECT event_date AS grp, event_id AS k,
					concat_ws('|', event_type, domain, epoch_us(event_timestamp)) AS v FROM silver.cleaned_events`,
				UpstreamSQL: `SELECT event_date AS grp, event_id AS k,
					concat_ws('|', event_type, domain, epoch_us(event_timestamp)) AS v FROM bronze.raw_events`,
				Expect: "silver holds each distinct bronze event_id once, with the same type, domain and time, " +
					"as of the bronze snapshot silver has read (silver keeps invalid events too, flagged is_valid = false)"},
			Description: "silver = distinct bronze events"})
	if cfg.MaxLag > 0 {
		add(Check{Name: "silver.freshness", Table: silver, Kind: KindFreshness,
			Freshness:   &Freshness{Upstream: bronze, MaxAge: cfg.MaxLag},
			Description: fmt.Sprintf("silver has read every bronze commit older than %s", human(cfg.MaxLag))})
	}

	// gold.hourly_stats
	add(Check{Name: "hourly.key_unique", Table: hourly, Kind: KindUniqueness,
		Columns:     []string{"stat_date", "stat_hour", "domain"},
		Description: "one row per (stat_date, stat_hour, domain)"},
		Check{Name: "hourly.bot_percentage_range", Table: hourly, Kind: KindRange, Columns: []string{"bot_percentage"},
			Min: 0, Max: 100, Description: "bot_percentage is a percentage"},
		Check{Name: "hourly.region_allowed", Table: hourly, Kind: KindAllowedValues, Columns: []string{"region"},
			Allowed: Regions, Description: "region is one of the five regions"},
		Check{Name: "hourly.reconciles_with_silver", Table: hourly, Kind: KindReconciliation,
			Reconcile: &Reconcile{Upstream: silver,
				SQL: `SELECT stat_date AS grp, concat_ws('|', stat_hour, domain) AS k,
					concat_ws('|', total_events, unique_users, bytes_added, bytes_removed, bot_events, anonymous_events, new_pages) AS v
					FROM gold.hourly_stats`,
				UpstreamSQL: `SELECT event_date AS grp, concat_ws('|', event_hour, domain) AS k,
					concat_ws('|', count(*), count(DISTINCT user_normalized), sum(greatest(length_delta, 0)),
						sum(greatest(-length_delta, 0)), sum(is_bot::INT), sum(is_anonymous::INT), sum(is_new_page::INT)) AS v
					FROM silver.cleaned_events WHERE is_valid GROUP BY event_date, event_hour, domain`,
				Expect: "each (stat_date, stat_hour, domain) has the totals of the valid silver events of that hour " +
					"(events, users, bytes added and removed, bot, anonymous, new pages), as of the silver snapshot gold has read"},
			Description: "gold hourly totals = silver counts"})
	if cfg.MaxLag > 0 {
		add(Check{Name: "hourly.freshness", Table: hourly, Kind: KindFreshness,
			Freshness:   &Freshness{Upstream: silver, MaxAge: cfg.MaxLag},
			Description: fmt.Sprintf("gold.hourly_stats has read every silver commit older than %s", human(cfg.MaxLag))})
	}

	// gold.risk_scores
	add(Check{Name: "risk.key_unique", Table: risk, Kind: KindUniqueness, Columns: []string{"stat_date", "entity_id"},
		Description: "one row per entity and day"},
		Check{Name: "risk.risk_score_range", Table: risk, Kind: KindRange, Columns: []string{"risk_score"},
			Min: 0, Max: 100, Description: "risk_score is 0-100"},
		Check{Name: "risk.risk_level_allowed", Table: risk, Kind: KindAllowedValues, Columns: []string{"risk_level"},
			Allowed: RiskLevels, Description: "risk_level is HIGH, MEDIUM or LOW"},
		Check{Name: "risk.risk_level_matches_score", Table: risk, Kind: KindAllowedValues,
			Violation:   `risk_level IS DISTINCT FROM CASE WHEN risk_score >= 70 THEN 'HIGH' WHEN risk_score >= 40 THEN 'MEDIUM' ELSE 'LOW' END`,
			Sample:      []string{"stat_date", "entity_id", "risk_score", "risk_level"},
			Description: "risk_level follows the bands HIGH 70-100, MEDIUM 40-69, LOW 0-39"},
		Check{Name: "risk.alert_only_when_high", Table: risk, Kind: KindAllowedValues,
			Violation:   "alert_triggered AND risk_level <> 'HIGH'",
			Sample:      []string{"stat_date", "entity_id", "risk_score", "risk_level", "alert_triggered"},
			Description: "only HIGH entities trigger alerts"},
		Check{Name: "risk.reconciles_with_silver", Table: risk, Kind: KindReconciliation,
			Reconcile: &Reconcile{Upstream: silver,
				SQL: `SELECT stat_date AS grp, entity_id AS k, total_edits::VARCHAR AS v FROM gold.risk_scores`,
				UpstreamSQL: `SELECT event_date AS grp, user_normalized AS k, count(*)::VARCHAR AS v FROM silver.cleaned_events
					WHERE is_valid AND event_type IN ('edit', 'new') AND user_normalized IS NOT NULL
					GROUP BY event_date, user_normalized`,
				Expect: "one row per entity and day for every editor of valid edit/new silver events that day, " +
					"with their number, as of the silver snapshot gold has read"},
			Description: "gold risk entities = silver editors"})
	if cfg.MaxLag > 0 {
		add(Check{Name: "risk.freshness", Table: risk, Kind: KindFreshness,
			Freshness:   &Freshness{Upstream: silver, MaxAge: cfg.MaxLag},
			Description: fmt.Sprintf("gold.risk_scores has read every silver commit older than %s", human(cfg.MaxLag))})
	}

	// The hourly rollups behind the API's top lists.
	contributors, pages := lakehouse.GoldContributorsHourly, lakehouse.GoldPagesHourly
	edits := "FROM silver.cleaned_events WHERE is_valid AND event_type IN ('edit', 'new')"
	add(Check{Name: "contributors.key_unique", Table: contributors, Kind: KindUniqueness,
		Columns:     tables[lakehouse.Name(contributors)].key,
		Description: "one row per (stat_date, stat_hour, domain, user_normalized, is_bot, is_anonymous)"},
		Check{Name: "contributors.reconciles_with_silver", Table: contributors, Kind: KindReconciliation,
			Reconcile: &Reconcile{Upstream: silver,
				SQL: `SELECT stat_date AS grp, concat_ws('|', stat_hour, domain, user_normalized, is_bot, is_anonymous) AS k,
					concat_ws('|', edits, bytes_added, bytes_removed, new_pages) AS v FROM gold.contributors_hourly`,
				UpstreamSQL: `SELECT event_date AS grp, concat_ws('|', event_hour, domain, user_normalized, is_bot, is_anonymous) AS k,
					concat_ws('|', count(*), sum(greatest(length_delta, 0)), sum(greatest(-length_delta, 0)), sum(is_new_page::INT)) AS v
					` + edits + ` AND user_normalized IS NOT NULL
					GROUP BY event_date, event_hour, domain, user_normalized, is_bot, is_anonymous`,
				Expect: "each editor's hour on a wiki has the edits, bytes and new pages of their valid edit/new silver " +
					"events, as of the silver snapshot gold has read"},
			Description: "gold contributors = silver editors per hour"},
		Check{Name: "pages.key_unique", Table: pages, Kind: KindUniqueness,
			Columns:     tables[lakehouse.Name(pages)].key,
			Description: "one row per (stat_date, stat_hour, domain, title, is_bot)"},
		Check{Name: "pages.reconciles_with_silver", Table: pages, Kind: KindReconciliation,
			Reconcile: &Reconcile{Upstream: silver,
				SQL: `SELECT stat_date AS grp, concat_ws('|', stat_hour, domain, title, is_bot) AS k,
					concat_ws('|', edits, len(editors), bytes_delta, last_revision) AS v FROM gold.pages_hourly`,
				UpstreamSQL: `SELECT event_date AS grp, concat_ws('|', event_hour, domain, title, is_bot) AS k,
					concat_ws('|', count(*), count(DISTINCT user_normalized), sum(length_delta), max(revision_new)) AS v
					` + edits + ` AND title IS NOT NULL GROUP BY event_date, event_hour, domain, title, is_bot`,
				Expect: "each page's hour has the edits, editors, net bytes and newest revision of its valid edit/new " +
					"silver events, as of the silver snapshot gold has read"},
			Description: "gold pages = silver pages per hour"})
	return checks
}

// sampleColumns are the columns shown for a row-level check's offending
// rows.
func (c Check) sampleColumns() []string {
	if len(c.Sample) > 0 {
		return c.Sample
	}
	cols := slices.Clone(tables[lakehouse.Name(c.Table)].key)
	for _, col := range c.Columns {
		if !slices.Contains(cols, col) {
			cols = append(cols, col)
		}
	}
	return cols
}
