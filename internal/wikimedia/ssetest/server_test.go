package ssetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

var events = [][]byte{
	[]byte(`{"meta":{"dt":"2023-01-24T01:48:58Z"},"id":1,"timestamp":1674524938}`),
	[]byte(`{"meta":{"dt":"2023-01-24T01:49:08Z"},"id":2,"timestamp":1674524948}`),
	[]byte(`{"meta":{"dt":"2023-01-24T01:49:18Z"},"id":3}`),
}

// get requests path with the headers and returns the status and the first
// n bytes of the body.
func get(t *testing.T, s *Server, path string, n int, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("got Content-Type %q, want text/event-stream", ct)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		t.Fatalf("read %d bytes: %v (got %q)", n, err, b)
	}
	return resp.StatusCode, string(b)
}

func frame(offset int, data []byte) string {
	return fmt.Sprintf("event: message\nid: [{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,\"offset\":%d}]\ndata: %s\n\n", offset, data)
}

func TestServerWireFormat(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		header []string
		want   string
	}{
		{"from the start", "/v2/stream/recentchange", nil, ":ok\n\n" + frame(0, events[0]) + frame(1, events[1]) + frame(2, events[2])},
		{"multi-stream path", "/v2/stream/recentchange,page-create", nil, ":ok\n\n" + frame(0, events[0])},
		{"after Last-Event-ID", "/v2/stream/recentchange", []string{"Last-Event-ID", `[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0}]`},
			":ok\n\n" + frame(1, events[1]) + frame(2, events[2])},
		{"Last-Event-ID with timestamp, other order", "/v2/stream/recentchange",
			[]string{"Last-Event-ID", `[{"topic":"codfw.mediawiki.recentchange","partition":0,"offset":-1},{"topic":"eqiad.mediawiki.recentchange","partition":0,"timestamp":1674524948000}]`},
			":ok\n\n" + frame(1, events[1])},
		{"since ms", "/v2/stream/recentchange?since=1674524940000", nil, ":ok\n\n" + frame(1, events[1]) + frame(2, events[2])},
		{"since ISO uses meta.dt without timestamp", "/v2/stream/recentchange?since=2023-01-24T01:49:10Z", nil, ":ok\n\n" + frame(2, events[2])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, events, Options{})
			status, got := get(t, s, tt.path, len(tt.want), tt.header...)
			if status != http.StatusOK || got != tt.want {
				t.Errorf("got %d %q\nwant 200 %q", status, got, tt.want)
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		path   string
		header []string
		want   int
	}{
		{"unknown stream", Options{KnownStreams: []string{"recentchange"}}, "/v2/stream/recentchange,nope", nil, http.StatusNotFound},
		{"not a stream path", Options{}, "/v2/other", nil, http.StatusNotFound},
		{"bad since", Options{}, "/v2/stream/recentchange?since=soon", nil, http.StatusBadRequest},
		{"bad Last-Event-ID", Options{}, "/v2/stream/recentchange", []string{"Last-Event-ID", "42"}, http.StatusBadRequest},
		{"unavailable", Options{Unavailable: 1, RetryAfter: 1500 * time.Millisecond}, "/v2/stream/recentchange", nil, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, events, tt.opts)
			if status, body := get(t, s, tt.path, 0, tt.header...); status != tt.want || !json.Valid([]byte(body)) {
				t.Errorf("got %d %q, want %d with a JSON body", status, body, tt.want)
			}
			if r := s.Requests(); len(r) != 1 || r[0].Status != tt.want {
				t.Errorf("got recorded requests %+v, want one with status %d", r, tt.want)
			}
		})
	}
}

func TestServerRetryAfterOnce(t *testing.T) {
	s := NewServer(t, events, Options{Unavailable: 1, RetryAfter: 1500 * time.Millisecond})
	resp, err := s.Client().Get(s.BaseURL() + "recentchange")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("got %d with Retry-After %q, want 503 with 2 (rounded up)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := get(t, s, "/v2/stream/recentchange", 5); status != http.StatusOK {
		t.Errorf("second request: got %d, want 200", status)
	}
}

func TestPlanEncoding(t *testing.T) {
	items := plan(append(events, events[0]), Options{Topic: DefaultTopic, MalformedEvery: 1, MultiLineEvery: 2, CRLFEvery: 3, CommentEvery: 100})
	var kinds []Kind
	for i, it := range items {
		kinds = append(kinds, it.Kind)
		if it.Offset != int64(i) {
			t.Errorf("item %d: got offset %d, want %d", i, it.Offset, i)
		}
	}
	want := []Kind{KindEvent, KindNotJSON, KindMultiLine, KindTruncatedJSON, KindCRLF, KindGarbageFields, KindMultiLine, KindNotJSON}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("got kinds %v, want %v", kinds, want)
	}
	if got := string(items[4].wire); strings.Count(got, "\r\n") != 4 || strings.Count(got, "\n") != 4 {
		t.Errorf("CRLF item: got %q, want CRLF line endings", got)
	}
	if got := string(items[2].wire); strings.Count(got, "\ndata: ") < 3 {
		t.Errorf("multi-line item: got %q, want several data lines", got)
	}
	items = plan(events, Options{Topic: DefaultTopic, CRLFEvery: 1})
	if got := string(items[1].wire); strings.Contains(got, "\n") || !strings.HasSuffix(got, "\r\r") {
		t.Errorf("CR item: got %q, want bare CR line endings", got)
	}
}
