package query

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/iceberg-go/table"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// sample is a result with the values that are hard to render.
func sample() *Result {
	return &Result{
		Columns: []string{"id", "name", "at", "day", "raw", "amount", "tags", "u", "score"},
		Types:   []string{"BIGINT", "VARCHAR", "TIMESTAMPTZ", "DATE", "BLOB", "DECIMAL(18,3)", "VARCHAR[]", "UUID", "DOUBLE"},
		Rows: [][]any{
			{int64(1), "plain", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
				[]byte{0, 1, 255}, duckdb.Decimal{Width: 18, Scale: 3, Value: big.NewInt(1500)}, []any{"a", "b"},
				[]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}, 0.25},
			{int64(1000), "a,\"b\"\nc", nil, nil, nil, nil, nil, nil, math.NaN()},
		},
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().Write(&buf, "csv"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "\r\n") || strings.Count(out, "\r\n") != 3 {
		t.Errorf("csv line ends: got %q, want three CRLF records", out)
	}
	if !strings.Contains(out, `"a,""b""`+"\nc\"") {
		t.Errorf("csv quoting: got %q, want the comma, quotes and newline quoted", out)
	}
	got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse back: %v", err)
	}
	want := [][]string{
		{"id", "name", "at", "day", "raw", "amount", "tags", "u", "score"},
		{"1", "plain", "2024-05-01T12:00:00Z", "2024-05-01", "AAH/", "1.5", `["a","b"]`, "00112233-4455-6677-8899-aabbccddeeff", "0.25"},
		{"1000", "a,\"b\"\nc", "", "", "", "", "", "", "NaN"},
	}
	if len(got) != len(want) {
		t.Fatalf("csv records: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("csv record %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().Write(&buf, "json"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("json is not valid: %s", out)
	}
	want := `[
{"id":1,"name":"plain","at":"2024-05-01T12:00:00Z","day":"2024-05-01","raw":"AAH/","amount":1.5,"tags":["a","b"],"u":"00112233-4455-6677-8899-aabbccddeeff","score":0.25},
{"id":1000,"name":"a,\"b\"\nc","at":null,"day":null,"raw":null,"amount":null,"tags":null,"u":null,"score":"NaN"}
]
`
	if out != want {
		t.Errorf("json:\ngot  %s\nwant %s", out, want)
	}
	// Key order is the column order in every object.
	dec := json.NewDecoder(strings.NewReader(out))
	var keys []string
	if _, err := dec.Token(); err != nil { // [
		t.Fatal(err)
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := dec.Token(); err != nil { // }
			t.Fatal(err)
		}
	}
	wantKeys := slices.Concat(sample().Columns, sample().Columns)
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("json keys: got %v, want %v", keys, wantKeys)
	}

	var empty bytes.Buffer
	if err := (&Result{Columns: []string{"a"}}).Write(&empty, "json"); err != nil || empty.String() != "[]\n" {
		t.Errorf("empty json: got %q, %v; want []", empty.String(), err)
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sample().Write(&buf, "table"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("table: got %d lines, want header, rule, 2 rows, footer:\n%s", len(lines), buf.String())
	}
	// Every separator sits where the rule has its "+".
	var cols []int
	for i, r := range []rune(lines[1]) {
		if r == '+' {
			cols = append(cols, i)
		}
	}
	if len(cols) != len(sample().Columns)-1 {
		t.Fatalf("rule %q: got %d column breaks, want %d", lines[1], len(cols), len(sample().Columns)-1)
	}
	for _, line := range lines[:4] {
		if line == lines[1] {
			continue
		}
		var bars []int
		for i, r := range []rune(line) {
			if r == '|' {
				bars = append(bars, i)
			}
		}
		if !slices.Equal(bars, cols) {
			t.Errorf("line %q: separators at %v, want %v", line, bars, cols)
		}
	}
	for _, c := range []struct {
		line int
		want string
	}{
		{0, "id   | name"},
		{2, "   1 | plain"},    // numbers right-aligned
		{3, `1000 | a,"b"\nc`}, // control characters escaped
		{3, "| NULL"},
		{4, "(2 rows)"},
	} {
		if !strings.Contains(lines[c.line], c.want) {
			t.Errorf("line %d: got %q, want it to contain %q", c.line, lines[c.line], c.want)
		}
	}
	if utf8.RuneCountInString(tableCell(strings.Repeat("é", 100))) != maxCellWidth {
		t.Errorf("long cell: got %d characters, want %d", utf8.RuneCountInString(tableCell(strings.Repeat("é", 100))), maxCellWidth)
	}

	r := sample()
	r.Truncated = true
	buf.Reset()
	if err := r.Write(&buf, "table"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "(2 rows shown; the result has more") {
		t.Errorf("truncated footer: got %q", buf.String())
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := sample().Write(&bytes.Buffer{}, "xml")
	if err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Errorf("got error %v, want unknown format", err)
	}
}

// TestWriteDuckDBValues renders values as DuckDB returns them, with its
// type names.
func TestWriteDuckDBValues(t *testing.T) {
	lh := openLakehouse(t)
	e := openEngine(t, lh, []table.Identifier{lakehouse.BronzeRawEvents}, Config{})
	res, err := e.Query(context.Background(), `SELECT TIMESTAMPTZ '2024-05-01 12:00:00+02' AS ts, TIMESTAMP '2024-05-01 12:00:00.5' AS naive,
		DATE '2024-05-01' AS d, TIME '13:14:15' AS tm, '00112233-4455-6677-8899-aabbccddeeff'::UUID AS u, 1.50::DECIMAL(18,3) AS m,
		'ab'::BLOB AS b, [1, 2] AS l, {'k': DATE '2024-01-02'} AS s, 123456789012345678901234567890::HUGEINT AS h, NULL AS n`, At{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.Write(&buf, "json"); err != nil {
		t.Fatal(err)
	}
	want := `[
{"ts":"2024-05-01T10:00:00Z","naive":"2024-05-01T12:00:00.5Z","d":"2024-05-01","tm":"13:14:15","u":"00112233-4455-6677-8899-aabbccddeeff","m":1.5,"b":"YWI=","l":[1,2],"s":{"k":"2024-01-02T00:00:00Z"},"h":123456789012345678901234567890,"n":null}
]
`
	if buf.String() != want {
		t.Errorf("json of DuckDB values (types %v):\ngot  %s\nwant %s", res.Types, buf.String(), want)
	}
}
