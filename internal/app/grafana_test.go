package app

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	grafanaDir = "../../deploy/grafana"
	sourceDir  = "../../internal"
)

// dashboard is what the tests read of a Grafana dashboard JSON model.
type dashboard struct {
	file          string
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string      `json:"name"`
			Datasource *datasource `json:"datasource"`
			Expr       string      `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	} `json:"gridPos"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		RefID   string `json:"refId"`
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// panelQuery is one PromQL expression of a dashboard, with where it is.
type panelQuery struct {
	where   string
	expr    string
	instant bool
}

// loadDashboards reads every JSON file under deploy/grafana and checks
// what makes a dashboard importable anywhere and readable: a title and
// uid, the Prometheus data source as a variable that every panel and
// annotation uses, a title, unit and at least one query on every panel,
// panels inside the 24-column grid that do not overlap. It returns the
// dashboards' queries.
func loadDashboards(t *testing.T) ([]dashboard, []panelQuery) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(grafanaDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no dashboard JSON under %s", grafanaDir)
	}
	var boards []dashboard
	var queries []panelQuery
	uids := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var b dashboard
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		b.file = f
		boards = append(boards, b)
		if b.Title == "" || b.UID == "" {
			t.Errorf("%s: title %q, uid %q; want both", f, b.Title, b.UID)
		}
		if other, ok := uids[b.UID]; ok {
			t.Errorf("%s: uid %q is also the uid of %s", f, b.UID, other)
		}
		uids[b.UID] = f
		if b.SchemaVersion < 36 {
			t.Errorf("%s: schemaVersion %d; want 36 or later (data source references by uid)", f, b.SchemaVersion)
		}
		dsVar := ""
		for _, v := range b.Templating.List {
			if v.Type == "datasource" && v.Query == "prometheus" {
				dsVar = v.Name
			}
		}
		if dsVar == "" {
			t.Errorf("%s: no data source variable of type prometheus; the board would import only where its data source uid exists", f)
		}
		usesVar := func(ds *datasource) bool {
			return ds != nil && ds.Type == "prometheus" && (ds.UID == "${"+dsVar+"}" || ds.UID == "$"+dsVar)
		}
		for _, a := range b.Annotations.List {
			if a.Expr == "" {
				continue
			}
			if !usesVar(a.Datasource) {
				t.Errorf("%s: annotation %q: data source %+v; want the ${%s} variable", f, a.Name, a.Datasource, dsVar)
			}
			queries = append(queries, panelQuery{where: fmt.Sprintf("%s: annotation %q", filepath.Base(f), a.Name), expr: a.Expr})
		}
		var all []panel
		for _, p := range b.Panels {
			all = append(all, p)
			all = append(all, p.Panels...)
		}
		ids := map[int]bool{}
		for i, p := range all {
			where := fmt.Sprintf("%s: panel %d %q", filepath.Base(f), p.ID, p.Title)
			if ids[p.ID] {
				t.Errorf("%s: id %d used twice", where, p.ID)
			}
			ids[p.ID] = true
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
				t.Errorf("%s: gridPos %+v is outside the 24-column grid", where, g)
			}
			for _, q := range all[:i] {
				h := q.GridPos
				if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
					t.Errorf("%s: gridPos %+v overlaps panel %q at %+v", where, g, q.Title, h)
				}
			}
			if p.Title == "" {
				t.Errorf("%s: no title", where)
			}
			if p.Type == "row" {
				continue
			}
			if !usesVar(p.Datasource) {
				t.Errorf("%s: data source %+v; want the ${%s} variable", where, p.Datasource, dsVar)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.Expr == "" || tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("%s: target %q with expr %q; want an expression and a refId of its own", where, tg.RefID, tg.Expr)
				}
				refs[tg.RefID] = true
				queries = append(queries, panelQuery{where: where + " " + tg.RefID, expr: tg.Expr, instant: tg.Instant})
			}
		}
	}
	return boards, queries
}

// TestGrafanaDashboardsWellFormed: the dashboards under deploy/grafana
// parse and each is importable anywhere (see loadDashboards); the ops
// board exists and shows every series the shipped recording rules record.
func TestGrafanaDashboardsWellFormed(t *testing.T) {
	boards, queries := loadDashboards(t)
	if !slices.ContainsFunc(boards, func(b dashboard) bool { return b.UID == "wikistream-ops" }) {
		t.Errorf("no dashboard with uid wikistream-ops (the ops board) under %s", grafanaDir)
	}
	used := map[string]bool{}
	for _, q := range queries {
		for _, n := range metricNames(q.expr) {
			used[n] = true
		}
	}
	for _, r := range recordedNames(t) {
		if !used[r] {
			t.Errorf("no dashboard shows %s (deploy/prometheus/recording-rules.yml)", r)
		}
	}
}

// unobserved are the series the test pipeline cannot produce: a stall
// needs a stage that stops making progress for minutes, a commit conflict
// or failure a second writer or a broken catalog. A query over them may
// come back empty, and a metric among them may be missing from the scrape
// but must be declared in the code.
var unobserved = []string{
	"wikistream_supervisor_stage_stalls_total",
	"wikistream_lakehouse_commit_conflicts_total",
	`wikistream_lakehouse_commits_total{result="failed"}`,
}

// TestGrafanaQueriesOnPrometheus: every PromQL expression of every
// dashboard, with Grafana's variables filled in, is accepted by Debian's
// Prometheus scraping a running pipeline with the shipped rules loaded,
// returns data (except over unobserved series), and names only metrics
// that pipeline exposes or the rules record: a metric name with a typo, a
// label value that matches nothing or a query Prometheus cannot parse
// fails.
func TestGrafanaQueriesOnPrometheus(t *testing.T) {
	_, queries := loadDashboards(t)
	s := scrapedPipeline(t)
	s.waitSettled(t)
	var present []string
	if err := s.get("/api/v1/label/__name__/values", nil, &present); err != nil {
		t.Fatal(err)
	}
	exists := map[string]bool{}
	for _, n := range present {
		exists[n] = true
	}
	declared := declaredMetrics(t)

	checked := map[string]bool{}
	for _, q := range queries {
		expr, err := grafanaExpand(q.expr)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", q.where, expr)
		}
		mayBeEmpty := false
		for _, u := range unobserved {
			if strings.Contains(expr, u) {
				mayBeEmpty = true
			}
		}
		for _, n := range names {
			checked[n] = true
			switch {
			case exists[n]:
			case slices.Contains(unobserved, n) && declared[n]:
			case slices.Contains(unobserved, n):
				t.Errorf("%s: %s is not declared in %s", q.where, n, sourceDir)
			default:
				t.Errorf("%s: %s is not in Prometheus (not scraped, not recorded)", q.where, n)
			}
		}
		var data struct {
			Result []json.RawMessage `json:"result"`
		}
		// Now, to the millisecond: a series the rules started recording
		// within the last second is there.
		params := url.Values{"query": {expr}}
		path := "/api/v1/query"
		end := time.Now()
		if q.instant {
			params.Set("time", promTime(end))
		} else {
			path = "/api/v1/query_range"
			params.Set("start", promTime(end.Add(-5*time.Minute)))
			params.Set("end", promTime(end))
			params.Set("step", "5")
		}
		if err := s.get(path, params, &data); err != nil {
			t.Errorf("%s: %s: %v", q.where, expr, err)
			continue
		}
		if len(data.Result) == 0 && !mayBeEmpty {
			t.Errorf("%s: %s returns no data", q.where, expr)
		}
	}
	t.Logf("%d queries over %d metrics checked against Prometheus", len(queries), len(checked))
}

// promTime formats t as the Prometheus API takes it, with milliseconds.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// grafanaVars are the values Grafana's built-in variables get in the test:
// what a 5-minute range with a 15 s interval and a 1 s scrape gives.
var grafanaVars = map[string]string{
	"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000",
	"__range": "5m", "__range_s": "300", "__range_ms": "300000",
}

var grafanaVarRE = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]`)

// grafanaExpand fills in Grafana's built-in variables; any other variable
// is an error (the test would not know what it stands for).
func grafanaExpand(expr string) (string, error) {
	var unknown []string
	out := grafanaVarRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVarRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := grafanaVars[name]; ok {
			return v
		}
		unknown = append(unknown, m)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("%q uses %v; the test knows only %v", expr, unknown, slices.Sorted(maps.Keys(grafanaVars)))
	}
	return out, nil
}

// promqlWords are identifiers that are not metric names outside braces:
// aggregation operators, keywords, and the number literals Inf and NaN.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true,
	"limit_ratio": true, "and": true, "or": true, "unless": true, "atan2": true, "bool": true,
	"offset": true, "start": true, "end": true, "inf": true, "nan": true,
}

// promqlLabelLists are the keywords followed by a parenthesized list of
// label names.
var promqlLabelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names a PromQL expression selects, in
// order of appearance: identifiers outside label matchers, label lists,
// strings and durations that are neither keywords nor called as functions.
func metricNames(expr string) []string {
	isStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' }
	var names []string
	braces, parens := 0, 0
	labelList := -1        // the paren depth of the label list being read, or -1
	expectingList := false // a label-list keyword was just read
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i++
			for i < len(expr) && expr[i] != c {
				if expr[i] == '\\' && c != '`' {
					i++
				}
				i++
			}
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '[':
			for i < len(expr) && expr[i] != ']' {
				i++
			}
		case c == '{':
			braces++
			i++
		case c == '}':
			braces--
			i++
		case c == '(':
			parens++
			if expectingList {
				labelList, expectingList = parens, false
			}
			i++
		case c == ')':
			if parens == labelList {
				labelList = -1
			}
			parens--
			i++
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (isPart(expr[i]) || expr[i] == '.') {
				i++
			}
		case isStart(c):
			j := i
			for j < len(expr) && isPart(expr[j]) {
				j++
			}
			word := expr[i:j]
			i = j
			if braces > 0 || labelList >= 0 {
				continue
			}
			for j < len(expr) && (expr[j] == ' ' || expr[j] == '\t' || expr[j] == '\n') {
				j++
			}
			switch {
			case promqlLabelLists[strings.ToLower(word)]:
				expectingList = true
			case promqlWords[strings.ToLower(word)]:
			case j < len(expr) && expr[j] == '(':
				// a function call
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

// TestPromQLMetricNames: the metric-name extraction the Grafana test
// relies on finds metric names and nothing else.
func TestPromQLMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (le) (rate(wikistream_bronze_processing_latency_seconds_bucket{table="bronze.raw_events"}[5m]))`,
			[]string{"wikistream_bronze_processing_latency_seconds_bucket"}},
		{`sum(rate(a_total[1m])) by (reason) / on () group_left () clamp_min(sum(rate(b_total[1m])), 1e-9)`,
			[]string{"a_total", "b_total"}},
		{`count(x == 0) or vector(0)`, []string{"x"}},
		{`time() - max(wikistream:table_staleness_seconds{table=~"(gold|silver)\\..+"}) > bool 600`,
			[]string{"wikistream:table_staleness_seconds"}},
		{`process_resident_memory_bytes and on (job, instance) group by (job, instance) ({__name__=~"wikistream_.+"})`,
			[]string{"process_resident_memory_bytes"}},
		{`histogram_quantile(0.99, sum without (instance) (rate(h_bucket[$__rate_interval] offset 1h)))`, []string{"h_bucket"}},
		{`ALERTS{alertstate="firing", alertname=~"WikiStream.*"}`, []string{"ALERTS"}},
		{`sum by (type) (increase(c_total{type="a{b}"}[1m])) * ignoring (x) group_right (y) d`, []string{"c_total", "d"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// declaredMetrics returns the names of the metrics the code declares with
// literal prometheus.*Opts (Namespace, Subsystem, Name joined; a
// histogram's _bucket, _sum and _count series).
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(sourceDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
				return true
			}
			parts := map[string]string{}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, ok1 := kv.Key.(*ast.Ident)
				val, ok2 := kv.Value.(*ast.BasicLit)
				if ok1 && ok2 && val.Kind == token.STRING {
					parts[key.Name], _ = strconv.Unquote(val.Value)
				}
			}
			if parts["Name"] == "" {
				return true
			}
			var full []string
			for _, k := range []string{"Namespace", "Subsystem", "Name"} {
				if parts[k] != "" {
					full = append(full, parts[k])
				}
			}
			name := strings.Join(full, "_")
			names[name] = true
			if sel.Sel.Name == "HistogramOpts" {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					names[name+suffix] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
