package lakehouse

import (
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Table identifiers, as DESIGN.md names them.
var (
	BronzeRawEvents = table.Identifier{"bronze", "raw_events"}
	BronzeDLQEvents = table.Identifier{"bronze", "dlq_events"}
)

// BronzeSchemaVersion is the version of the bronze table definitions.
const BronzeSchemaVersion = 1

// parquetProps are the Parquet writer settings of the streaming tables,
// chosen by measurement (see docs/PERFORMANCE.md): zstd at level 1 costs a
// third of the default level's CPU for files a few percent larger, and
// dictionary encoding is off for the columns that are nearly unique per
// row, where building a dictionary only to abandon it dominated the write.
// The writer checks a page's size after every page-row-limit rows: at
// iceberg-go's 20,000 a page of raw JSON held a whole 10,000-event batch
// (12 MB, and as much again for its compression), at 1024 it holds about
// a megabyte.
func parquetProps(uniqueColumns ...string) map[string]string {
	p := map[string]string{
		"write.parquet.compression-codec": "zstd",
		"write.parquet.compression-level": "1",
		"write.parquet.page-row-limit":    "1024",
	}
	for _, c := range uniqueColumns {
		p["write.parquet.dict-encoding-enabled.column."+c] = "false"
	}
	return p
}

var (
	str  = iceberg.PrimitiveTypes.String
	i32  = iceberg.PrimitiveTypes.Int32
	i64  = iceberg.PrimitiveTypes.Int64
	boo  = iceberg.PrimitiveTypes.Bool
	tstz = iceberg.PrimitiveTypes.TimestampTz
	bin  = iceberg.PrimitiveTypes.Binary
)

func field(id int, name string, typ iceberg.Type, required bool, doc string) iceberg.NestedField {
	return iceberg.NestedField{ID: id, Name: name, Type: typ, Required: required, Doc: doc}
}

// RawEventsTable is bronze.raw_events: every valid event exactly once,
// with the columns of the original specification, every field of the
// recentchange event, the raw JSON and where it came from.
var RawEventsTable = TableDef{
	Ident:     BronzeRawEvents,
	Partition: []string{"event_date", "event_hour"},
	Version:   BronzeSchemaVersion,
	Props: parquetProps("event_id", "rc_id", "title", "title_url", "comment", "parsed_comment",
		"revision_old", "revision_new", "notify_url", "log_params", "meta_id", "meta_uri",
		"meta_request_id", "meta_offset", "meta_dt", "raw_json", "kafka_offset", "source_position"),
	Fields: []iceberg.NestedField{
		field(1, "event_id", str, true, "md5(domain|rc_id|timestamp), lowercase hex"),
		field(2, "rc_id", i64, false, "recentchange id (rc_id)"),
		field(3, "event_type", str, true, "edit, new, log, categorize or external"),
		field(4, "domain", str, true, "meta.domain, e.g. en.wikipedia.org"),
		field(5, "wiki", str, false, "database name, e.g. enwiki"),
		field(6, "namespace", i32, false, "page namespace id"),
		field(7, "title", str, false, "page title"),
		field(8, "title_url", str, false, ""),
		field(9, "comment", str, false, "edit summary"),
		field(10, "parsed_comment", str, false, "edit summary as HTML"),
		field(11, "user", str, false, "user name or IP address as sent"),
		field(12, "is_bot", boo, false, ""),
		field(13, "is_minor", boo, false, ""),
		field(14, "is_patrolled", boo, false, "absent where the wiki has no patrolling"),
		field(15, "length_old", i64, false, ""),
		field(16, "length_new", i64, false, ""),
		field(17, "length_delta", i64, false, "length_new - length_old (absent side counts 0)"),
		field(18, "revision_old", i64, false, ""),
		field(19, "revision_new", i64, false, ""),
		field(20, "server_url", str, false, ""),
		field(21, "server_name", str, false, ""),
		field(22, "server_script_path", str, false, ""),
		field(23, "notify_url", str, false, ""),
		field(24, "log_id", i64, false, ""),
		field(25, "log_type", str, false, ""),
		field(26, "log_action", str, false, ""),
		field(27, "log_action_comment", str, false, ""),
		field(28, "log_params", str, false, "log parameters as JSON"),
		field(29, "meta_id", str, false, "EventStreams event uuid"),
		field(30, "meta_uri", str, false, ""),
		field(31, "meta_request_id", str, false, ""),
		field(32, "meta_stream", str, false, ""),
		field(33, "meta_topic", str, false, "Wikimedia's Kafka topic"),
		field(34, "meta_partition", i32, false, ""),
		field(35, "meta_offset", i64, false, ""),
		field(36, "meta_dt", str, false, "meta.dt as sent"),
		field(37, "event_timestamp", tstz, true, "the event's timestamp field"),
		field(38, "event_date", str, true, "YYYY-MM-DD of event_timestamp (UTC); partition"),
		field(39, "event_hour", i32, true, "hour of event_timestamp (UTC); partition"),
		field(40, "raw_json", str, true, "the event exactly as received"),
		field(41, "kafka_topic", str, true, ""),
		field(42, "kafka_partition", i32, true, ""),
		field(43, "kafka_offset", i64, true, ""),
		field(44, "source", str, false, "ingest source (stream URL or file)"),
		field(45, "source_position", str, false, "SSE id or file offset"),
		field(46, "ingested_at", tstz, false, "when ingest read the event"),
		field(47, "bronze_processed_at", tstz, true, "when bronze committed the row"),
		field(48, "schema_version", i32, true, "bronze schema version"),
	},
}

// DLQEventsTable is bronze.dlq_events: every rejected input exactly once,
// with its original bytes and the reason.
var DLQEventsTable = TableDef{
	Ident:     BronzeDLQEvents,
	Partition: []string{"ingest_date"},
	Version:   BronzeSchemaVersion,
	Props:     parquetProps("dlq_id", "raw", "raw_text", "detail", "position", "source_position", "kafka_offset"),
	Fields: []iceberg.NestedField{
		field(1, "dlq_id", str, true, "md5(source|position|raw), lowercase hex"),
		field(2, "reason", str, true, "not_json, missing_field, wrong_type, unknown_type, implausible_timestamp, oversize"),
		field(3, "detail", str, false, "human-readable detail"),
		field(4, "source", str, false, "ingest source (stream URL or file)"),
		field(5, "source_position", str, false, "human-readable position, e.g. events.jsonl:line 12"),
		field(6, "position", str, false, "resume position (SSE id or file offset)"),
		field(7, "raw", bin, true, "the input exactly as received"),
		field(8, "raw_text", str, false, "raw as text (invalid UTF-8 replaced)"),
		field(9, "raw_size", i64, true, "bytes"),
		field(10, "kafka_topic", str, true, ""),
		field(11, "kafka_partition", i32, true, ""),
		field(12, "kafka_offset", i64, true, ""),
		field(13, "first_seen", tstz, true, "when ingest first read it"),
		field(14, "ingest_date", str, true, "YYYY-MM-DD of first_seen (UTC); partition"),
		field(15, "bronze_processed_at", tstz, true, ""),
		field(16, "schema_version", i32, true, ""),
	},
}

// Tables lists every WikiStream table, in the order data flows; the query
// engine defines those that exist.
func Tables() []table.Identifier {
	return []table.Identifier{BronzeRawEvents, BronzeDLQEvents, SilverCleanedEvents, GoldHourlyStats, GoldRiskScores,
		GoldContributorsHourly, GoldPagesHourly, GoldContributorsDaily, GoldPagesDaily, OpsDQResults, OpsAlerts}
}
