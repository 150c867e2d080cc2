package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/wikimedia/ssetest"
)

// writeFile writes content to name in a temporary directory, gzipped when
// name ends in .gz, and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	data := []byte(content)
	if strings.HasSuffix(name, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t *testing.T, spec string, cfg Config) Source {
	t.Helper()
	src, err := Open(spec, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// collect runs src from resume to its end and returns the messages.
func collect(t *testing.T, src Source, resume string) []Message {
	t.Helper()
	var got []Message
	err := src.Run(t.Context(), resume, func(_ context.Context, m Message) error {
		got = append(got, m)
		return nil
	})
	if err != nil {
		t.Fatalf("Run(%q): %v", resume, err)
	}
	return got
}

func fmtMessages(ms []Message) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "{%.60q event=%q pos=%s where=%s oversize=%v}\n", m.Data, m.Event, m.Position, m.Where, m.Oversize)
	}
	return b.String()
}

func equalMessages(a, b []Message) bool {
	return slices.EqualFunc(a, b, func(x, y Message) bool {
		return bytes.Equal(x.Data, y.Data) && x.Event == y.Event && x.Position == y.Position && x.Where == y.Where && x.Oversize == y.Oversize
	})
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.jsonl", "a.ndjson", "a.json", "a.jsonl.gz", "B.JSONL.GZ", "a.ndjson.gz", "a.json.gz", "a.sse", "a.events", "a.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "d.jsonl"), 0o755)
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		spec     string
		wantType string // %T of the source; "" when Open must fail
		wantName string // or the error text
	}{
		{"https://stream.wikimedia.org/v2/stream/recentchange", "*source.streamSource", "https://stream.wikimedia.org/v2/stream/recentchange"},
		{"https://stream.wikimedia.org/v2/stream/recentchange,page-create?since=2023-01-24T00:00:00Z", "*source.streamSource", "https://stream.wikimedia.org/v2/stream/recentchange,page-create"},
		{"http://localhost:8080/v2/stream/", "*source.streamSource", "http://localhost:8080/v2/stream/recentchange"},
		{"https://stream.wikimedia.org", "", "no stream path"},
		{"https://stream.wikimedia.org/v2/stream/recentchange?foo=1", "", `unsupported query parameter "foo"`},
		{"https://stream.wikimedia.org/v2/stream/recentchange?since=yesterday", "", "Since:"},
		{"-", "*source.lineSource", "stdin"},
		{in("a.jsonl"), "*source.lineSource", in("a.jsonl")},
		{in("a.ndjson"), "*source.lineSource", in("a.ndjson")},
		{in("a.json"), "*source.lineSource", in("a.json")},
		{in("a.jsonl.gz"), "*source.lineSource", in("a.jsonl.gz")},
		{in("B.JSONL.GZ"), "*source.lineSource", in("B.JSONL.GZ")},
		{in("a.ndjson.gz"), "*source.lineSource", in("a.ndjson.gz")},
		{in("a.json.gz"), "*source.lineSource", in("a.json.gz")},
		{in("a.sse"), "*source.sseFileSource", in("a.sse")},
		{in("a.events"), "*source.sseFileSource", in("a.events")},
		{in("a.txt"), "", "unknown file type"},
		{in("missing.jsonl"), "", "no such file"},
		{in("d.jsonl"), "", "not a regular file"},
		{"", "", "empty spec"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			src, err := Open(tt.spec, DefaultConfig())
			if tt.wantType == "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantName) {
					t.Fatalf("got %v, want an error saying %q", err, tt.wantName)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", src); got != tt.wantType || src.Name() != tt.wantName {
				t.Errorf("got %s named %s, want %s named %s", got, src.Name(), tt.wantType, tt.wantName)
			}
		})
	}
	rel := open(t, filepath.Join("..", "..", "testdata", "sse", "wiki_visualizer_example.events"), DefaultConfig())
	if !filepath.IsAbs(rel.Name()) {
		t.Errorf("got name %q for a relative path, want an absolute path", rel.Name())
	}
	if since := open(t, "https://x.org/v2/stream/recentchange?since=1674524938000", DefaultConfig()).(*streamSource).cfg.Since; since != "1674524938000" {
		t.Errorf("got Since %q from the URL, want 1674524938000", since)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"default", func(*Config) {}, ""},
		{"speed", func(c *Config) { c.Speed = 10 }, ""},
		{"no streams", func(c *Config) { c.Streams = nil }, ""},
		{"negative speed", func(c *Config) { c.Speed = -1 }, "Speed"},
		{"NaN speed", func(c *Config) { c.Speed = math.NaN() }, "Speed"},
		{"infinite speed", func(c *Config) { c.Speed = math.Inf(1) }, "Speed"},
		{"max bytes", func(c *Config) { c.MaxEventBytes = 0 }, "MaxEventBytes"},
		{"idle", func(c *Config) { c.IdleTimeout = -time.Second }, "IdleTimeout"},
		{"since", func(c *Config) { c.Since = "soon" }, "Since"},
		{"user agent", func(c *Config) { c.UserAgent = "" }, "UserAgent"},
		{"backoff", func(c *Config) { c.MaxBackoff = time.Millisecond }, "MaxBackoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field+":")):
				t.Errorf("got %v, want an error naming %s", err, tt.field)
			case tt.field == "MaxEventBytes" && strings.Contains(err.Error(), "MaxFrameBytes"):
				t.Errorf("got %v, want only the source's field names", err)
			}
		})
	}
}

// TestRealLineFiles reads real files and checks every line arrives once,
// unchanged, with increasing positions, and that resuming from a middle
// position yields exactly the remaining messages.
func TestRealLineFiles(t *testing.T) {
	tests := []struct {
		file  string
		lines int
	}{
		{"arvindp25_DataPlumbHub_stream2025-05-03_07_46_20Z.jsonl", 144},
		{"camilomozov_wikistream_2023-01-24_25_reconstructed_recentchange.jsonl.gz", 18935},
		{"polars_book_wikimedia_enwiki_2023-07-29.ndjson", 100},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := ssetest.SharedData(t, tt.file)
			want := ssetest.ReadLines(t, path)
			src := open(t, path, DefaultConfig())
			got := collect(t, src, "")
			if len(got) != tt.lines || len(want) != tt.lines {
				t.Fatalf("got %d messages (reference reader %d), want %d", len(got), len(want), tt.lines)
			}
			var prev int64
			for i, m := range got {
				pos, err := strconv.ParseInt(m.Position, 10, 64)
				if err != nil || pos <= prev {
					t.Fatalf("message %d: got position %q after %d, want an increasing offset", i, m.Position, prev)
				}
				prev = pos
				if !bytes.Equal(m.Data, want[i]) || m.Oversize || m.Event != "" {
					t.Fatalf("message %d: got %.80q (oversize %v, event %q), want the line %.80q", i, m.Data, m.Oversize, m.Event, want[i])
				}
				if w := fmt.Sprintf("%s:line %d", filepath.Base(path), i+1); m.Where != w {
					t.Fatalf("message %d: got where %q, want %q", i, m.Where, w)
				}
			}
			if size := uncompressedSize(t, path); prev != size {
				t.Errorf("got last position %d, want the uncompressed size %d", prev, size)
			}
			resumes := []int{0, tt.lines / 2, tt.lines - 2, tt.lines - 1}
			if tt.lines > 1000 {
				resumes = []int{tt.lines / 2} // each resume reads the file again: keep -race fast
			}
			for _, k := range resumes {
				rest := collect(t, src, got[k].Position)
				if !equalMessages(rest, got[k+1:]) {
					t.Errorf("resume after message %d: got %d messages, want the remaining %d exactly; got first\n%swant\n%s",
						k, len(rest), len(got)-k-1, fmtMessages(rest[:min(1, len(rest))]), fmtMessages(got[k+1:min(k+2, len(got))]))
				}
			}
		})
	}
}

// uncompressedSize returns the size of a file, or for a (single-member)
// gzip file the uncompressed size from its ISIZE trailer.
func uncompressedSize(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return int64(len(b))
	}
	return int64(binary.LittleEndian.Uint32(b[len(b)-4:]))
}

func TestSSECapture(t *testing.T) {
	path := filepath.Join(ssetest.RepoRoot(t), "testdata", "sse", "wiki_visualizer_example.events")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := open(t, path, DefaultConfig())
	got := collect(t, src, "")
	if len(got) != 3 {
		t.Fatalf("got %d messages, want 3 (the last frame has no final blank line)", len(got))
	}
	domains := []string{"commons.wikimedia.org", "en.wiktionary.org", "www.wikidata.org"}
	for i, m := range got {
		var ev struct {
			Meta struct{ Domain string } `json:"meta"`
		}
		if err := json.Unmarshal(m.Data, &ev); err != nil || ev.Meta.Domain != domains[i] || m.Event != "message" {
			t.Errorf("message %d: got domain %q event %q (%v), want %s, message", i, ev.Meta.Domain, m.Event, err, domains[i])
		}
		if w := fmt.Sprintf("wiki_visualizer_example.events:frame %d", i+1); m.Where != w {
			t.Errorf("message %d: got where %q, want %q", i, m.Where, w)
		}
		// Each frame's data line is in the file and ends right at its position (+ blank line).
		pos, _ := strconv.Atoi(m.Position)
		if end := strings.TrimRight(string(raw[:pos]), "\n"); !strings.HasSuffix(end, string(m.Data)) {
			t.Errorf("message %d: position %d is not just after its data", i, pos)
		}
	}
	if got[2].Position != strconv.Itoa(len(raw)) {
		t.Errorf("got last position %s, want the file size %d", got[2].Position, len(raw))
	}
	for k := range got {
		if rest := collect(t, src, got[k].Position); fmtMessages(rest) != fmtMessages(got[k+1:]) {
			t.Errorf("resume after frame %d: got\n%swant\n%s", k+1, fmtMessages(rest), fmtMessages(got[k+1:]))
		}
	}
	for _, bad := range []string{"5", strconv.Itoa(len(raw) + 1), "x"} {
		if err := src.Run(t.Context(), bad, func(context.Context, Message) error { return nil }); err == nil || !strings.Contains(err.Error(), "resume position") {
			t.Errorf("resume %q: got %v, want a resume position error", bad, err)
		}
	}
}

// TestLineEdgeCases covers blank lines, CRLF, a missing final newline and
// oversize lines, plain and gzipped, and resuming from every position.
func TestLineEdgeCases(t *testing.T) {
	long := strings.Repeat("y", 200<<10) // longer than the read buffer
	content := "a\n\n  \r\n12345\r\n123456\n" + long + "\nx\r\n\nlast"
	want := []Message{
		{Data: []byte("a"), Position: "2", Where: "f:line 1"},
		{Data: []byte("12345"), Position: strconv.Itoa(len("a\n\n  \r\n12345\r\n")), Where: "f:line 4"},
		{Data: []byte("12345"), Position: strconv.Itoa(len("a\n\n  \r\n12345\r\n123456\n")), Where: "f:line 5", Oversize: true},
		{Data: []byte("yyyyy"), Position: strconv.Itoa(len("a\n\n  \r\n12345\r\n123456\n" + long + "\n")), Where: "f:line 6", Oversize: true},
		{Data: []byte("x"), Position: strconv.Itoa(len(content) - len("\nlast")), Where: "f:line 7"},
		{Data: []byte("last"), Position: strconv.Itoa(len(content)), Where: "f:line 9"},
	}
	cfg := DefaultConfig()
	cfg.MaxEventBytes = 5
	for _, name := range []string{"f.jsonl", "f.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			src := open(t, writeFile(t, name, content), cfg)
			got := collect(t, src, "")
			for i := range want {
				want[i].Where = strings.Replace(want[i].Where, "f:", name+":", 1)
			}
			if fmtMessages(got) != fmtMessages(want) {
				t.Fatalf("got\n%swant\n%s", fmtMessages(got), fmtMessages(want))
			}
			for k := range got {
				if rest := collect(t, src, got[k].Position); fmtMessages(rest) != fmtMessages(got[k+1:]) {
					t.Errorf("resume after %d: got\n%swant\n%s", k, fmtMessages(rest), fmtMessages(got[k+1:]))
				}
			}
			for i := range want {
				want[i].Where = strings.Replace(want[i].Where, name+":", "f:", 1)
			}
		})
	}
}

func TestBadResume(t *testing.T) {
	path := writeFile(t, "f.jsonl.gz", "{\"a\":1}\n{\"b\":2}\n")
	src := open(t, path, DefaultConfig())
	tests := []struct{ resume, want string }{
		{"abc", "want a byte offset"},
		{"-1", "want a byte offset"},
		{"1.5", "want a byte offset"},
		{"3", "not at the end of a line"},
		{"17", "beyond the end of the input (16 bytes)"},
	}
	for _, tt := range tests {
		emitted := 0
		err := src.Run(t.Context(), tt.resume, func(context.Context, Message) error { emitted++; return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), strconv.Quote(tt.resume)) || emitted != 0 {
			t.Errorf("resume %q: got %v after %d messages, want an error quoting it and saying %q, before any message", tt.resume, err, emitted, tt.want)
		}
	}
	if got := collect(t, src, "16"); len(got) != 0 {
		t.Errorf("resume at the end: got %d messages, want 0", len(got))
	}
}

func TestStdin(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Stdin = strings.NewReader("{\"a\":1}\n{\"b\":2}\n")
	src := open(t, "-", cfg)
	got := collect(t, src, "")
	want := []Message{{Data: []byte(`{"a":1}`), Position: "8", Where: "stdin:line 1"}, {Data: []byte(`{"b":2}`), Position: "16", Where: "stdin:line 2"}}
	if fmtMessages(got) != fmtMessages(want) {
		t.Errorf("got\n%swant\n%s", fmtMessages(got), fmtMessages(want))
	}
}

// fakeClock advances only when slept on, plus step on every reading.
type fakeClock struct {
	now    time.Time
	step   time.Duration
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func TestSpeed(t *testing.T) {
	content := `{"timestamp":1000}
{"timestamp":1000}
{"timestamp":1010}
{"timestamp":500000}
{"timestamp":1005}
{"no":"timestamp"}
not json
{"timestamp":1030.5}
{"meta":{"timestamp":9999},"timestamp":1031}
`
	s := time.Second
	tests := []struct {
		name  string
		speed float64
		step  time.Duration // time each clock reading adds (work done between events)
		want  []time.Duration
	}{
		{"as fast as possible", 0, 0, nil},
		{"real time", 1, 0, []time.Duration{10 * s, 20*s + 500*time.Millisecond, 500 * time.Millisecond}},
		{"ten times faster", 10, 0, []time.Duration{s, 2*s + 50*time.Millisecond, 50 * time.Millisecond}},
		// The schedule is absolute: time spent between events is not slept.
		{"ten times faster with slow work", 10, 200 * time.Millisecond, []time.Duration{600 * time.Millisecond, 1650 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(5e8, 0), step: tt.step}
			cfg := DefaultConfig()
			cfg.Speed, cfg.Now, cfg.Sleep = tt.speed, clock.Now, clock.Sleep
			for _, name := range []string{"f.jsonl", "f.sse"} {
				clock.sleeps = nil
				body := content
				if strings.HasSuffix(name, ".sse") {
					body = ""
					for line := range strings.Lines(content) {
						body += "data: " + line + "\n"
					}
				}
				got := collect(t, open(t, writeFile(t, name, body), cfg), "")
				if len(got) != 9 {
					t.Fatalf("%s: got %d messages, want 9", name, len(got))
				}
				if fmt.Sprint(clock.sleeps) != fmt.Sprint(tt.want) {
					t.Errorf("%s: got sleeps %v, want %v", name, clock.sleeps, tt.want)
				}
			}
		})
	}
}

func TestSpeedSleepHonoursContext(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Speed = 1
	src := open(t, writeFile(t, "f.jsonl", "{\"timestamp\":1}\n{\"timestamp\":3000}\n"), cfg)
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	start := time.Now()
	err := src.Run(ctx, "", func(context.Context, Message) error {
		n++
		time.AfterFunc(50*time.Millisecond, cancel)
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("got %v after %d messages, want context.Canceled after 1", err, n)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v to stop, want promptly", d)
	}
}

func TestEmitErrorAndCancel(t *testing.T) {
	path := writeFile(t, "f.jsonl", "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n")
	src := open(t, path, DefaultConfig())
	boom := errors.New("produce failed")
	n := 0
	err := src.Run(t.Context(), "", func(context.Context, Message) error {
		if n++; n == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "f.jsonl:line 2") || n != 2 {
		t.Errorf("got %v after %d messages, want %v wrapped, naming f.jsonl:line 2, after 2", err, n, boom)
	}
	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	err = src.Run(ctx, "", func(context.Context, Message) error { n++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("got %v after %d messages, want context.Canceled after 1", err, n)
	}
}

func TestStream(t *testing.T) {
	var events [][]byte
	for i := range 10 {
		events = append(events, fmt.Appendf(nil, `{"id":%d,"timestamp":%d}`, i, 1674524938+i))
	}
	srv := ssetest.NewServer(t, events, ssetest.Options{DisconnectEvery: 4, CutMidFrame: true})
	items := srv.Items()
	cfg := DefaultConfig()
	cfg.HTTPClient = srv.Client()
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 2*time.Millisecond
	reconnects := 0
	cfg.OnReconnect = func(error, time.Duration) { reconnects++ }
	src := open(t, srv.BaseURL()+"recentchange?since=1674524940000", cfg)
	if src.Name() != srv.BaseURL()+"recentchange" {
		t.Errorf("got name %s, want %s", src.Name(), srv.BaseURL()+"recentchange")
	}
	run := func(resume string, n int) []Message {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var got []Message
		err := src.Run(ctx, resume, func(_ context.Context, m Message) error {
			if got = append(got, m); len(got) == n {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || len(got) != n {
			t.Fatalf("got %v after %d messages, want context.Canceled after %d", err, len(got), n)
		}
		return got
	}
	got := run("", 8) // since= skips the first two events
	for i, m := range got {
		it := items[i+2]
		if !bytes.Equal(m.Data, it.Data) || m.Position != it.ID || m.Where != it.ID || m.Event != "message" {
			t.Fatalf("message %d: got %s at %s, want %s at %s", i, m.Data, m.Position, it.Data, it.ID)
		}
	}
	if reconnects == 0 {
		t.Errorf("got no reconnects, want some (the server cuts every 4 frames)")
	}
	got = run(got[2].Position, 5) // resume after items[4]
	if got[0].Position != items[5].ID {
		t.Errorf("resume: got first %s, want %s", got[0].Position, items[5].ID)
	}
	reqs := srv.Requests()
	if r := reqs[0]; r.Since != "1674524940000" || r.LastEventID != "" {
		t.Errorf("first request: got since %q, Last-Event-ID %q; want since only", r.Since, r.LastEventID)
	}
	var resumed bool
	for _, r := range reqs {
		resumed = resumed || r.LastEventID == items[4].ID
	}
	if !resumed {
		t.Errorf("no request carried Last-Event-ID %s", items[4].ID)
	}
}
