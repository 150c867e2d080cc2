package query

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// The read-only gate, first half: a lexical check that needs no database.
// It splits the text into statements the way DuckDB's (PostgreSQL-derived)
// lexer does — quotes, dollar quotes, nested block comments, line comments
// — and classifies the single statement by its first keyword. The second
// half, in session.check, has DuckDB's own parser confirm the statement is
// one query before anything is prepared; session.run then checks the type
// DuckDB prepared. duckdb-go would run every statement but the last of a
// multi-statement text while preparing it, so the statement count is checked
// twice before that.

type stmtKind int

const (
	kindQuery   stmtKind = iota // anything DuckDB parses as a SELECT
	kindExplain                 // EXPLAIN [ANALYZE] <query>
	kindPragma                  // an information PRAGMA (pragmas below)
)

// statement is a classified statement.
type statement struct {
	kind  stmtKind
	body  string // the statement without trailing semicolons and comments
	inner string // EXPLAIN: the query explained
}

// allows reports whether DuckDB's prepared statement type fits the kind.
func (s statement) allows(t duckdb.StmtType) bool {
	switch s.kind {
	case kindExplain:
		return t == duckdb.STATEMENT_TYPE_EXPLAIN
	case kindPragma:
		// DuckDB rewrites most information pragmas into SELECTs.
		return t == duckdb.STATEMENT_TYPE_PRAGMA || t == duckdb.STATEMENT_TYPE_SELECT
	}
	return t == duckdb.STATEMENT_TYPE_SELECT
}

// queryKeywords start statements DuckDB parses as SELECTs.
var queryKeywords = map[string]bool{
	"SELECT": true, "WITH": true, "VALUES": true, "FROM": true, "TABLE": true,
	"SHOW": true, "DESCRIBE": true, "DESC": true, "SUMMARIZE": true,
}

// pragmas are the PRAGMAs that only describe the database.
var pragmas = map[string]bool{
	"TABLE_INFO": true, "SHOW": true, "SHOW_TABLES": true, "SHOW_TABLES_EXPANDED": true,
	"SHOW_DATABASES": true, "VERSION": true, "PLATFORM": true, "DATABASE_SIZE": true,
}

const allowedList = "SELECT, WITH, VALUES, FROM, TABLE, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, " +
	"PRAGMA table_info/show/show_tables/version/platform/database_size"

// classify checks that text is a single read-only statement and classifies
// it.
func classify(text string) (statement, error) {
	toks, err := lex(text)
	if err != nil {
		return statement{}, fmt.Errorf("parse query: %w", err)
	}
	var stmts [][]token
	var cur []token
	for _, t := range toks {
		if t.semicolon {
			if len(cur) > 0 {
				stmts = append(stmts, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		stmts = append(stmts, cur)
	}
	switch len(stmts) {
	case 0:
		return statement{}, errors.New("parse query: the query is empty")
	case 1:
	default:
		return statement{}, fmt.Errorf("%w: found %d statements; send one", ErrReadOnly, len(stmts))
	}
	st := stmts[0]
	body := text[st[0].start:st[len(st)-1].end]
	first := 0
	for first < len(st) && st[first].text == "(" {
		first++
	}
	if first == len(st) || st[first].word == "" {
		// No keyword: not a statement at all. DuckDB's parser, which
		// accepts only queries here, has the last word.
		return statement{kind: kindQuery, body: body}, nil
	}
	word := st[first].word
	switch {
	case queryKeywords[word]:
		return statement{kind: kindQuery, body: body}, nil
	case word == "EXPLAIN" && first == 0:
		i := 1
		if i < len(st) && st[i].word == "ANALYZE" {
			i++
		}
		if i == len(st) {
			return statement{}, errors.New("parse query: EXPLAIN of nothing")
		}
		return statement{kind: kindExplain, body: body, inner: text[st[i].start:st[len(st)-1].end]}, nil
	case word == "PRAGMA" && first == 0:
		if len(st) < 2 || !pragmas[st[1].word] {
			name := ""
			if len(st) > 1 {
				name = st[1].text
			}
			return statement{}, fmt.Errorf("%w: PRAGMA %s is not (allowed: %s)", ErrReadOnly, name, allowedList)
		}
		// Pragma arguments are plain names and strings; without any
		// semicolon there is no way to smuggle in a second statement.
		if strings.Contains(body, ";") {
			return statement{}, fmt.Errorf("%w: a PRAGMA may not contain ';'", ErrReadOnly)
		}
		return statement{kind: kindPragma, body: body}, nil
	}
	return statement{}, fmt.Errorf("%w: got %s (allowed: %s)", ErrReadOnly, word, allowedList)
}

// token is one significant lexical element.
type token struct {
	start, end int
	text       string
	word       string // upper-cased keyword or identifier; "" for others
	semicolon  bool
}

// dollarTag matches the opening of a dollar-quoted string: $$ or $tag$.
var dollarTag = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)?\$`)

// lex splits SQL into significant tokens, skipping whitespace and comments.
// Quoted strings and identifiers come out as one token each; only words and
// semicolons matter to the caller.
func lex(src string) ([]token, error) {
	var toks []token
	add := func(start, end int) {
		t := token{start: start, end: end, text: src[start:end]}
		if isIdentStart(src[start]) {
			t.word = strings.ToUpper(t.text)
		}
		t.semicolon = t.text == ";"
		toks = append(toks, t)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case strings.HasPrefix(src[i:], "--"):
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(src)
			}
		case strings.HasPrefix(src[i:], "/*"):
			j, depth := i, 0
			for j < len(src) {
				switch {
				case strings.HasPrefix(src[j:], "/*"):
					depth++
					j += 2
				case strings.HasPrefix(src[j:], "*/"):
					depth--
					j += 2
				default:
					j++
				}
				if depth == 0 {
					break
				}
			}
			if depth != 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i = j
		case c == '\'' || c == '"':
			j, err := endQuote(src, i, c, false)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{start: i, end: j, text: src[i:j]})
			i = j
		case (c == 'E' || c == 'e') && i+1 < len(src) && src[i+1] == '\'':
			// E'...' strings take backslash escapes; standard strings do not.
			j, err := endQuote(src, i+1, '\'', true)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{start: i, end: j, text: src[i:j]})
			i = j
		case c == '$' && dollarTag.MatchString(src[i:]):
			tag := dollarTag.FindString(src[i:])
			j := strings.Index(src[i+len(tag):], tag)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %s string", tag)
			}
			end := i + len(tag) + j + len(tag)
			toks = append(toks, token{start: i, end: end, text: src[i:end]})
			i = end
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			add(i, j)
			i = j
		default:
			add(i, i+1)
			i++
		}
	}
	return toks, nil
}

// endQuote returns the index just past the quote that closes the one at
// src[open]. A doubled quote stands for itself; with backslash, so does \q.
func endQuote(src string, open int, q byte, backslash bool) (int, error) {
	for j := open + 1; j < len(src); j++ {
		switch {
		case backslash && src[j] == '\\':
			j++
		case src[j] == q && j+1 < len(src) && src[j+1] == q:
			j++
		case src[j] == q:
			return j + 1, nil
		}
	}
	if q == '"' {
		return 0, errors.New(`unterminated quoted identifier`)
	}
	return 0, errors.New("unterminated quoted string")
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }
