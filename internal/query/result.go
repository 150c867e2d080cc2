package query

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// Result is the outcome of a query.
type Result struct {
	// Columns are the column names, in order.
	Columns []string
	// Types are DuckDB's names of the column types: VARCHAR, BIGINT,
	// TIMESTAMPTZ, DECIMAL(18,3), VARCHAR[], ...
	Types []string
	// Rows hold the values as duckdb-go returns them: nil for NULL, bool,
	// the Go integer types (*big.Int for HUGEINT), float32 and float64,
	// string, []byte (BLOB and UUID), time.Time in UTC (DATE, TIME,
	// TIMESTAMP, TIMESTAMPTZ), duckdb.Decimal, duckdb.Interval, []any
	// (LIST), map[string]any (STRUCT) and duckdb.OrderedMap (MAP).
	Rows [][]any
	// Truncated reports that the query had more rows than Config.MaxRows;
	// Rows holds the first ones.
	Truncated bool
	// Snapshots maps each table the query reads to the snapshot id it read:
	// the tables it names, or every table of the engine when that cannot be
	// told from its text (SELECT 1, SHOW TABLES, table functions) or it is
	// pinned to a snapshot id. Tables without a snapshot (empty or
	// undefined) are absent.
	Snapshots map[string]int64
}

// Formats are the formats Write knows.
var Formats = []string{"table", "csv", "json"}

// Write renders the result:
//   - "table": aligned columns for people, NULL spelled out, numbers
//     right-aligned, control characters escaped, cells cut at 60
//     characters, and a row count;
//   - "csv": a header row, then the rows, as RFC 4180 (records end with
//     CRLF, fields are quoted where needed, values are kept byte for byte);
//     NULL is an empty field;
//   - "json": an array of objects whose keys follow the column order.
//
// In every format, timestamps are RFC 3339 in UTC, dates YYYY-MM-DD, binary
// values base64 and UUIDs in their usual text form; lists, structs and maps
// are JSON.
func (r *Result) Write(w io.Writer, format string) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "table":
		err = r.writeTable(bw)
	case "csv":
		err = r.writeCSV(bw)
	case "json":
		err = r.writeJSON(bw)
	default:
		return fmt.Errorf("write result: unknown format %q; want one of %s", format, strings.Join(Formats, ", "))
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write result as %s: %w", format, err)
	}
	return nil
}

func (r *Result) typ(col int) string {
	if col < len(r.Types) {
		return r.Types[col]
	}
	return ""
}

func (r *Result) writeCSV(w io.Writer) error {
	// encoding/csv's UseCRLF would also turn newlines inside values into
	// CRLF; end each record with CRLF by hand instead, so values survive
	// byte for byte.
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	write := func(rec []string) error {
		buf.Reset()
		if err := cw.Write(rec); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		line := append(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), '\r', '\n')
		_, err := w.Write(line)
		return err
	}
	if err := write(r.Columns); err != nil {
		return err
	}
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			rec[i] = textValue(v, r.typ(i))
		}
		if err := write(rec); err != nil {
			return err
		}
	}
	return nil
}

func (r *Result) writeJSON(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encode := func(v any) ([]byte, error) {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	keys := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		k, err := encode(c)
		if err != nil {
			return err
		}
		keys[i] = string(k)
	}
	if len(r.Rows) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	var line []byte
	for n, row := range r.Rows {
		line = line[:0]
		if n == 0 {
			line = append(line, "[\n{"...)
		} else {
			line = append(line, ",\n{"...)
		}
		for i, v := range row {
			if i > 0 {
				line = append(line, ',')
			}
			val, err := encode(jsonValue(v, r.typ(i)))
			if err != nil {
				return fmt.Errorf("column %s: %w", r.Columns[i], err)
			}
			line = append(line, keys[i]...)
			line = append(line, ':')
			line = append(line, val...)
		}
		line = append(line, '}')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}

// maxCellWidth bounds a cell of the table format, in characters.
const maxCellWidth = 60

func (r *Result) writeTable(w io.Writer) error {
	cells := make([][]string, 0, len(r.Rows)+1)
	cells = append(cells, r.Columns)
	for _, row := range r.Rows {
		line := make([]string, len(row))
		for i, v := range row {
			if v == nil {
				line[i] = "NULL"
				continue
			}
			line[i] = tableCell(textValue(v, r.typ(i)))
		}
		cells = append(cells, line)
	}
	widths := make([]int, len(r.Columns))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	writeLine := func(line []string, header bool) error {
		b.Reset()
		for i, c := range line {
			if i > 0 {
				b.WriteString(" | ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if !header && numeric(r.typ(i)) {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		_, err := io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n")
		return err
	}
	if err := writeLine(cells[0], true); err != nil {
		return err
	}
	rule := make([]string, len(widths))
	for i, n := range widths {
		rule[i] = strings.Repeat("-", n)
	}
	if _, err := io.WriteString(w, strings.Join(rule, "-+-")+"\n"); err != nil {
		return err
	}
	for _, line := range cells[1:] {
		if err := writeLine(line, false); err != nil {
			return err
		}
	}
	footer := fmt.Sprintf("(%d rows)", len(r.Rows))
	if len(r.Rows) == 1 {
		footer = "(1 row)"
	}
	if r.Truncated {
		footer = fmt.Sprintf("(%d rows shown; the result has more, cut at the row limit)", len(r.Rows))
	}
	_, err := io.WriteString(w, footer+"\n")
	return err
}

// tableCell escapes control characters, which would break the layout, and
// cuts long values.
func tableCell(s string) string {
	s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
	if utf8.RuneCountInString(s) > maxCellWidth {
		rs := []rune(s)
		s = string(rs[:maxCellWidth-1]) + "…"
	}
	return s
}

// numeric reports whether a DuckDB type is a number (right-aligned).
func numeric(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"UHUGEINT", "FLOAT", "DOUBLE":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}

// textValue renders a value for csv and table.
func textValue(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return formatTime(x, typ)
	case []byte:
		return formatBytes(x, typ)
	case duckdb.Decimal:
		return x.String()
	case *big.Int:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(jsonValue(v, typ))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// jsonValue converts a value to what encoding/json renders as promised:
// exact decimals and big integers as numbers, times as text, binary as
// base64, non-finite floats as strings (JSON has no NaN).
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case time.Time:
		return formatTime(x, typ)
	case []byte:
		return formatBytes(x, typ)
	case duckdb.Decimal:
		return json.Number(x.String())
	case *big.Int:
		return json.Number(x.String())
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 32)
		}
	case []any:
		elem := strings.TrimSuffix(typ, "[]")
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, elem)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e, "")
		}
		return out
	case duckdb.Union:
		return jsonValue(x.Value, "")
	}
	return v
}

// formatTime renders DATE, TIME and timestamps.
func formatTime(t time.Time, typ string) string {
	switch typ {
	case "DATE":
		return t.Format(time.DateOnly)
	case "TIME", "TIME_NS":
		return t.Format("15:04:05.999999999")
	case "TIME WITH TIME ZONE", "TIMETZ":
		return t.Format("15:04:05.999999999Z07:00")
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// formatBytes renders a UUID in its text form and other binary as base64.
func formatBytes(b []byte, typ string) string {
	if typ == "UUID" && len(b) == 16 {
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	return base64.StdEncoding.EncodeToString(b)
}

// JSONValue is the value of row i, column j as the JSON output writes it:
// times in RFC 3339, decimals and huge integers as exact strings, lists
// and structs as JSON arrays and objects.
func (r *Result) JSONValue(i, j int) any { return jsonValue(r.Rows[i][j], r.typ(j)) }
