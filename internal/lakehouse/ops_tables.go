package lakehouse

import (
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// The operations tables: data-quality results and alerts.
var (
	OpsDQResults = table.Identifier{"ops", "dq_results"}
	OpsAlerts    = table.Identifier{"ops", "alerts"}
)

// OpsSchemaVersion is the version of the ops table definitions.
const OpsSchemaVersion = 1

// DQResultsTable is ops.dq_results: one row per check and run.
var DQResultsTable = TableDef{
	Ident:     OpsDQResults,
	Partition: []string{"run_date"},
	Version:   OpsSchemaVersion,
	Fields: []iceberg.NestedField{
		field(1, "run_id", str, true, "one id per data-quality run"),
		field(2, "run_date", str, true, "YYYY-MM-DD (UTC) of evaluated_at; partition"),
		field(3, "check", str, true, "the check's name, unique within a run"),
		field(4, "table", str, true, "the table checked, such as silver.cleaned_events"),
		field(5, "kind", str, true, "completeness, uniqueness, allowed_values, range, reconciliation, freshness or volume"),
		field(6, "status", str, true, "pass, fail or error"),
		field(7, "observed", str, false, "what was measured"),
		field(8, "expected", str, false, "what passes"),
		field(9, "detail", str, false, "JSON: samples of offending rows, the query's error"),
		field(10, "evaluated_at", tstz, true, ""),
		field(11, "schema_version", i32, true, ""),
	},
}

// AlertsTable is ops.alerts: every alert raised, suppressed repeats included.
var AlertsTable = TableDef{
	Ident:     OpsAlerts,
	Partition: []string{"alert_date"},
	Version:   OpsSchemaVersion,
	Fields: []iceberg.NestedField{
		field(1, "alert_id", str, true, ""),
		field(2, "alert_date", str, true, "YYYY-MM-DD (UTC) of created_at; partition"),
		field(3, "alert_type", str, true, "risk_high, dq_failure, job_failed, pipeline_stalled, dlq_spike or stage_restarted"),
		field(4, "severity", str, true, "critical, warning or info"),
		field(5, "title", str, true, ""),
		field(6, "evidence", str, true, "JSON object"),
		field(7, "execution_id", str, false, "the run or stage execution that raised it"),
		field(8, "error", str, false, ""),
		field(9, "runbook", str, true, "link into docs/RUNBOOK.md"),
		field(10, "created_at", tstz, true, ""),
		field(11, "suppressed", boo, true, "a repeat within the cool-down: recorded, not sent"),
		field(12, "schema_version", i32, true, ""),
		field(13, "dedupe_key", str, false, "what the alert is about (entity and date, check, stage); repeats share a cool-down"),
	},
}
