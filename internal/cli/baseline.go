package cli

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver
)

// duckdbBaseline converts the NDJSON file to Parquet partitioned by event
// date and hour with DuckDB, the yardstick of DESIGN.md section 5, and
// returns how long it took.
func duckdbBaseline(ctx context.Context, file, outDir string) (time.Duration, error) {
	db, err := sql.Open("duckdb", "?threads=2")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	q := fmt.Sprintf(`COPY (
		SELECT *, strftime(to_timestamp("timestamp"), '%%Y-%%m-%%d') AS event_date, hour(to_timestamp("timestamp")) AS event_hour
		FROM read_json_auto('%s', format = 'newline_delimited', ignore_errors = true)
	) TO '%s' (FORMAT parquet, PARTITION_BY (event_date, event_hour))`,
		strings.ReplaceAll(file, "'", "''"), strings.ReplaceAll(filepath.Join(outDir, "duckdb"), "'", "''"))
	start := time.Now()
	if _, err := db.ExecContext(ctx, q); err != nil {
		return 0, fmt.Errorf("duckdb baseline: %w", err)
	}
	return time.Since(start), nil
}
