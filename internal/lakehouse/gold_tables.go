package lakehouse

import (
	"maps"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// The gold tables.
var (
	GoldHourlyStats = table.Identifier{"gold", "hourly_stats"}
	GoldRiskScores  = table.Identifier{"gold", "risk_scores"}
	// The dashboard's top lists, rolled up per hour.
	GoldContributorsHourly = table.Identifier{"gold", "contributors_hourly"}
	GoldPagesHourly        = table.Identifier{"gold", "pages_hourly"}
	// The same per day, for the days that are over.
	GoldContributorsDaily = table.Identifier{"gold", "contributors_daily"}
	GoldPagesDaily        = table.Identifier{"gold", "pages_daily"}
)

// GoldTables are the gold tables, in the order a gold run commits them.
func GoldTables() []table.Identifier {
	return []table.Identifier{GoldHourlyStats, GoldContributorsHourly, GoldContributorsDaily, GoldPagesHourly,
		GoldPagesDaily, GoldRiskScores}
}

// GoldSchemaVersion is the version of the gold table definitions.
const GoldSchemaVersion = 1

var f64 = iceberg.PrimitiveTypes.Float64

// HourlyStatsTable is gold.hourly_stats: one row per (stat_date, stat_hour,
// domain), computed from the valid silver events of that hour.
var HourlyStatsTable = TableDef{
	Ident:     GoldHourlyStats,
	Partition: []string{"stat_date", "region"},
	Version:   GoldSchemaVersion,
	Props:     parquetProps(),
	Fields: []iceberg.NestedField{
		field(1, "stat_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(2, "stat_hour", i32, true, "0-23 (UTC)"),
		field(3, "domain", str, true, ""),
		field(4, "region", str, true, "partition"),
		field(5, "language", str, false, ""),
		field(6, "total_events", i64, true, "valid silver events"),
		field(7, "unique_users", i64, true, "distinct normalized users"),
		field(8, "bytes_added", i64, true, "sum of positive length changes"),
		field(9, "bytes_removed", i64, true, "sum of negative length changes, as a positive number"),
		field(10, "bot_percentage", f64, true, "share of events by bots, 0-100"),
		field(11, "human_events", i64, true, "neither bot nor anonymous"),
		field(12, "bot_events", i64, true, ""),
		field(13, "anonymous_events", i64, true, "IP addresses and temporary accounts"),
		field(14, "new_pages", i64, true, ""),
		field(15, "unique_pages", i64, true, "distinct titles"),
		field(16, "gold_processed_at", tstz, true, ""),
		field(17, "schema_version", i32, true, ""),
	},
}

// RiskScoresTable is gold.risk_scores: one row per editor and day.
var RiskScoresTable = TableDef{
	Ident:     GoldRiskScores,
	Partition: []string{"stat_date"},
	Version:   GoldSchemaVersion,
	// A day's rows are rewritten whenever it changes (tens of thousands of
	// editors): dictionaries over the unique columns only cost memory.
	// Gold writes a day's rows the highest scores first (then the most
	// edits, then by entity: the risk feed's order), so that readers of
	// the HIGH and MEDIUM levels skip the rest. Gold, the table's only
	// writer, sizes its row groups itself: a page size and a row-group
	// size of one byte make each Arrow record it writes a row group of its
	// own (iceberg-go starts a row group before a record once the current
	// one has flushed a page, and each write flushes its pages), up to the
	// row limit. Gold writes each day's first 128 rows as one record and
	// the rest 1024 at a time, so that a risk feed, which keeps the top of
	// each day, decompresses 128 rows' evidence a day instead of the whole
	// day's (the LOW feed over 30 generated days: p50 28-30 ms instead of
	// 42, BenchmarkAPI; docs/PERFORMANCE.md, session 20).
	// LZ4, not zstd: decompressing the evidence JSON was most of a feed's
	// time. The LOW feed over 30 generated days took p50 28.6 ms instead
	// of 44, and over a busy day of 82k editors 22 ms instead of 26; that
	// day's file is 14.8 MB instead of 9.9 (session 15).
	FileOrder: "risk_score DESC, total_edits DESC, entity_id",
	Props: withProps(parquetProps("entity_id", "evidence"), map[string]string{
		"write.parquet.row-group-limit":      "8192",
		"write.parquet.row-group-size-bytes": "1",
		"write.parquet.page-size-bytes":      "1",
		"write.parquet.page-row-limit":       "8192",
		"write.parquet.compression-codec":    "lz4raw"}),
	Fields: []iceberg.NestedField{
		field(1, "stat_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(2, "entity_id", str, true, "the normalized user name or IP address"),
		field(3, "risk_score", f64, true, "0-100, the sum of the factors' points"),
		field(4, "risk_level", str, true, "HIGH (70-100), MEDIUM (40-69) or LOW (0-39)"),
		field(5, "evidence", str, true, "JSON: each factor with its numbers, sample pages and revisions"),
		field(6, "alert_triggered", boo, true, "HIGH and not a bot"),
		field(7, "is_bot", boo, true, ""),
		field(8, "is_anonymous", boo, true, ""),
		field(9, "total_edits", i64, true, "edits and page creations that day"),
		field(10, "domains", i32, true, "distinct wikis edited that day"),
		field(11, "gold_processed_at", tstz, true, ""),
		field(12, "schema_version", i32, true, ""),
	},
}

// The hourly rollups behind the API's top lists. Aggregating
// silver.cleaned_events on every request cost 50-70 ms for a day and
// 200-370 ms for 30 days of the benchmark's data (docs/PERFORMANCE.md);
// these hold what those aggregates need, one row per hour and key, so that
// the API sums a few rows per editor or page instead of every event.
// Their keys include the flags the API filters by (is_bot, is_anonymous),
// so any range of hours, regions, wikis and kinds of editor sums them
// exactly. They are partitioned by hour as well as day: gold replaces the
// hours new silver rows touch, and replaces a whole partition's files
// without rewriting any other hour's rows.

// ContributorsHourlyTable is gold.contributors_hourly: per hour, wiki and
// editor, their valid edits and page creations.
var ContributorsHourlyTable = TableDef{
	Ident:     GoldContributorsHourly,
	Partition: []string{"stat_date", "stat_hour"},
	Version:   GoldSchemaVersion,
	Props:     parquetProps("user_normalized"),
	Fields: []iceberg.NestedField{
		field(1, "stat_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(2, "stat_hour", i32, true, "0-23 (UTC); partition"),
		field(3, "domain", str, true, ""),
		field(4, "region", str, true, ""),
		field(5, "user_normalized", str, true, ""),
		field(6, "user_id", i64, true, "63 bits of md5(user_normalized): ranking by a number is twice as fast"),
		field(7, "is_bot", boo, true, "part of the key: the editor's edits flagged bot"),
		field(8, "is_anonymous", boo, true, "part of the key"),
		field(9, "edits", i64, true, "valid edits and page creations"),
		field(10, "bytes_added", i64, true, "sum of positive length changes"),
		field(11, "bytes_removed", i64, true, "sum of negative length changes, as a positive number"),
		field(12, "new_pages", i64, true, ""),
		field(13, "last_edit", tstz, true, "the newest event_timestamp"),
		field(16, "hour_start", tstz, true, "the hour's first instant: stat_date and stat_hour as one value, which a range of hours filters (and skips row groups by) as one condition"),
		field(14, "gold_processed_at", tstz, true, ""),
		field(15, "schema_version", i32, true, ""),
	},
}

// PagesHourlyTable is gold.pages_hourly: per hour, wiki, title and bot
// flag, the page's valid edits and page creations.
var PagesHourlyTable = TableDef{
	Ident:     GoldPagesHourly,
	Partition: []string{"stat_date", "stat_hour"},
	Version:   GoldSchemaVersion,
	Props:     parquetProps("title"),
	Fields: []iceberg.NestedField{
		field(1, "stat_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(2, "stat_hour", i32, true, "0-23 (UTC); partition"),
		field(3, "domain", str, true, ""),
		field(4, "region", str, true, ""),
		field(5, "title", str, true, ""),
		field(18, "page_id", i64, true, "63 bits of md5(domain|title): ranking by a number is twice as fast"),
		field(6, "is_bot", boo, true, "part of the key: edits flagged bot"),
		field(7, "edits", i64, true, "valid edits and page creations"),
		{ID: 8, Name: "editors", Required: true, Doc: "the distinct normalized users, sorted (distinct counts over hours need the names)",
			Type: &iceberg.ListType{ElementID: 15, Element: str, ElementRequired: true}},
		field(9, "bytes_delta", i64, true, "sum of length changes"),
		field(10, "new_page", boo, true, "a page creation among the edits"),
		field(11, "last_edit", tstz, true, "the newest event_timestamp"),
		field(12, "first_revision", i64, false, "the oldest revision_new"),
		field(13, "first_parent", i64, false, "the first revision's revision_old: the page before the hour's edits; null for a creation"),
		field(14, "last_revision", i64, false, "the newest revision_new"),
		field(19, "hour_start", tstz, true, "the hour's first instant: stat_date and stat_hour as one value, which a range of hours filters (and skips row groups by) as one condition"),
		field(16, "gold_processed_at", tstz, true, ""),
		field(17, "schema_version", i32, true, ""),
	},
}

// The daily rollups hold the hourly rollups' rows summed per day, for the
// days that are over: a top list over a week or a month sums one row per
// day of an editor or page instead of up to 24, and its bound on the rows
// a page can have (the API's rankedSQL.ranking) is tight enough to skip
// the pages that cannot make the list. Gold writes a day once the newest
// event time is an hour past its end, and writes it again when a late
// event changes its hours; until then the API reads the day's hours. A
// day's rows are written most edits first, so that the bound's scans skip
// row groups by their statistics.

// dailyProps are the daily rollups' Parquet properties: row groups small
// enough for that skipping.
func dailyProps(uniqueColumns ...string) map[string]string {
	return withProps(parquetProps(uniqueColumns...), map[string]string{"write.parquet.row-group-limit": "16384"})
}

// ContributorsDailyTable is gold.contributors_daily: gold.contributors_hourly
// summed per day.
var ContributorsDailyTable = TableDef{
	Ident:     GoldContributorsDaily,
	Partition: []string{"stat_date"},
	Version:   GoldSchemaVersion,
	Props:     dailyProps("user_normalized"),
	Fields: []iceberg.NestedField{
		field(1, "stat_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(2, "domain", str, true, ""),
		field(3, "region", str, true, ""),
		field(4, "user_normalized", str, true, ""),
		field(5, "user_id", i64, true, "63 bits of md5(user_normalized), as in gold.contributors_hourly"),
		field(6, "is_bot", boo, true, "part of the key"),
		field(7, "is_anonymous", boo, true, "part of the key"),
		field(8, "edits", i64, true, "valid edits and page creations"),
		field(9, "bytes_added", i64, true, "sum of positive length changes"),
		field(10, "bytes_removed", i64, true, "sum of negative length changes, as a positive number"),
		field(11, "new_pages", i64, true, ""),
		field(12, "last_edit", tstz, true, "the newest event_timestamp"),
		field(13, "day_start", tstz, true, "the day's first instant"),
		field(14, "gold_processed_at", tstz, true, ""),
		field(15, "schema_version", i32, true, ""),
	},
}

// PagesDailyTable is gold.pages_daily: gold.pages_hourly summed per day.
var PagesDailyTable = TableDef{
	Ident:     GoldPagesDaily,
	Partition: []string{"stat_date"},
	Version:   GoldSchemaVersion,
	Props:     dailyProps("title"),
	Fields: []iceberg.NestedField{
		field(1, "stat_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(2, "domain", str, true, ""),
		field(3, "region", str, true, ""),
		field(4, "title", str, true, ""),
		field(5, "page_id", i64, true, "63 bits of md5(domain|title), as in gold.pages_hourly"),
		field(6, "is_bot", boo, true, "part of the key: edits flagged bot"),
		field(7, "edits", i64, true, "valid edits and page creations"),
		{ID: 8, Name: "editors", Required: true, Doc: "the distinct normalized users, sorted",
			Type: &iceberg.ListType{ElementID: 17, Element: str, ElementRequired: true}},
		field(9, "bytes_delta", i64, true, "sum of length changes"),
		field(10, "new_page", boo, true, "a page creation among the edits"),
		field(11, "last_edit", tstz, true, "the newest event_timestamp"),
		field(12, "first_revision", i64, false, "the oldest revision_new"),
		field(13, "first_parent", i64, false, "the first revision's revision_old; null for a creation"),
		field(14, "last_revision", i64, false, "the newest revision_new"),
		field(15, "day_start", tstz, true, "the day's first instant"),
		field(16, "gold_processed_at", tstz, true, ""),
		field(18, "schema_version", i32, true, ""),
	},
}

// withProps returns p with extra's properties added.
func withProps(p, extra map[string]string) map[string]string {
	maps.Copy(p, extra)
	return p
}
