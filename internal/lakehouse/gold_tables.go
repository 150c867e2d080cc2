package lakehouse

import (
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// The gold tables.
var (
	GoldHourlyStats = table.Identifier{"gold", "hourly_stats"}
	GoldRiskScores  = table.Identifier{"gold", "risk_scores"}
)

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
	Props: parquetProps("entity_id", "evidence"),
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
