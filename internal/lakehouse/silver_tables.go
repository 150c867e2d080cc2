package lakehouse

import (
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// SilverCleanedEvents is silver.cleaned_events.
var SilverCleanedEvents = table.Identifier{"silver", "cleaned_events"}

// SilverSchemaVersion is the version of the silver table definition.
const SilverSchemaVersion = 1

// CleanedEventsTable is silver.cleaned_events: every bronze event once,
// cleaned (normalized user, validity with reasons) and enriched (region,
// language, anonymous and bot flags, anomaly flags).
var CleanedEventsTable = TableDef{
	Ident:     SilverCleanedEvents,
	Partition: []string{"event_date", "region"},
	Version:   SilverSchemaVersion,
	Props:     parquetProps("event_id", "rc_id", "title", "comment", "revision_old", "revision_new"),
	Fields: []iceberg.NestedField{
		field(1, "event_id", str, true, "md5(domain|rc_id|timestamp), as in bronze"),
		field(2, "rc_id", i64, false, ""),
		field(3, "event_type", str, true, "edit, new, log, categorize or external"),
		field(4, "domain", str, true, "e.g. en.wikipedia.org"),
		field(5, "wiki", str, false, "database name, e.g. enwiki"),
		field(6, "project", str, true, "wikipedia, wiktionary, commons, wikidata, ..."),
		field(7, "language", str, true, "language code of the wiki; empty for multilingual wikis"),
		field(8, "region", str, true, "asia_pacific, europe, americas, middle_east or other; partition"),
		field(9, "namespace", i32, false, ""),
		field(10, "title", str, false, ""),
		field(11, "comment", str, false, ""),
		field(12, "user", str, false, "user name as sent"),
		field(13, "user_normalized", str, false, "as MediaWiki normalizes it: first letter upper case, spaces, canonical IPv6"),
		field(14, "is_bot", boo, true, ""),
		field(15, "is_anonymous", boo, true, "an IP address or a temporary account"),
		field(16, "is_ip", boo, true, ""),
		field(17, "is_temporary_account", boo, true, "names starting with ~"),
		field(18, "is_minor", boo, false, ""),
		field(19, "is_patrolled", boo, false, ""),
		field(20, "length_old", i64, false, ""),
		field(21, "length_new", i64, false, ""),
		field(22, "length_delta", i64, true, "length_new - length_old; 0 where the event has no lengths"),
		field(23, "revision_old", i64, false, ""),
		field(24, "revision_new", i64, false, ""),
		field(25, "is_valid", boo, true, "passes every check in validation_errors' list"),
		field(26, "validation_errors", str, false, "comma-separated failed checks; null when valid"),
		field(27, "is_large_deletion", boo, true, "removed at least --large-deletion-bytes"),
		field(28, "is_page_blanking", boo, true, "an edit that left the page empty"),
		field(29, "is_new_page", boo, true, "type new"),
		field(30, "event_timestamp", tstz, true, ""),
		field(31, "event_date", str, true, "YYYY-MM-DD (UTC); partition"),
		field(32, "event_hour", i32, true, "0-23 (UTC)"),
		field(33, "silver_processed_at", tstz, true, ""),
		field(34, "schema_version", i32, true, ""),
	},
}
