package kafka

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startBroker starts an embedded broker on a free port and closes it when
// the test ends.
func startBroker(tb testing.TB, dataDir string) *Broker {
	tb.Helper()
	cfg := DefaultBrokerConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	b, err := StartBroker(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

func client(tb testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// consumeAll reads every record of topic from the start until n arrived.
func consumeAll(tb testing.TB, addr, topic string, n int) []*kgo.Record {
	tb.Helper()
	cl := client(tb, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			tb.Fatalf("consumed %d records of %s, want %d: %v", len(out), topic, n, ctx.Err())
		}
		for _, fe := range fs.Errors() {
			tb.Fatalf("fetch %s/%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// TestBrokerPersistence stops and restarts the embedded broker on the same
// data directory: every topic and record must still be there, and new
// records continue after the old ones.
func TestBrokerPersistence(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const n = 5000
	b := startBroker(t, dir)
	cl := client(t, b.Addr())
	if err := EnsureTopics(ctx, kadm.NewClient(cl), 6, -1, TopicRaw); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: TopicRaw, Key: []byte(fmt.Sprintf("wiki-%d", i%17)),
			Value:   []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Headers: []kgo.RecordHeader{{Key: HeaderPosition, Value: []byte(fmt.Sprint(i))}}})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	b.Close()

	b2 := startBroker(t, dir)
	got := consumeAll(t, b2.Addr(), TopicRaw, n)
	seen := map[string]bool{}
	for _, r := range got {
		if want := fmt.Sprintf(`{"n":%s}`, Header(r, HeaderPosition)); string(r.Value) != want {
			t.Fatalf("record value %s, want %s (header lost or value changed)", r.Value, want)
		}
		seen[string(r.Value)] = true
	}
	if len(seen) != n || len(got) != n {
		t.Fatalf("after restart: %d records (%d distinct), want %d", len(got), len(seen), n)
	}
	// Partition counts survive too, and producing continues after the old offsets.
	adm := kadm.NewClient(client(t, b2.Addr()))
	ends, err := adm.ListEndOffsets(ctx, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	parts, total := 0, int64(0)
	ends.Each(func(o kadm.ListedOffset) { parts++; total += o.Offset })
	if parts != 6 || total != n {
		t.Fatalf("after restart: %d partitions ending at %d records in all, want 6 and %d", parts, total, n)
	}
	cl2 := client(t, b2.Addr())
	if err := cl2.ProduceSync(ctx, &kgo.Record{Topic: TopicRaw, Key: []byte("wiki-0"), Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	recs2, err := LastRecords(ctx, []kgo.Opt{kgo.SeedBrokers(b2.Addr())}, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs2) != 6 {
		t.Fatalf("LastRecords: %d records, want one per partition (6)", len(recs2))
	}
	found := false
	for _, r := range recs2 {
		if string(r.Value) == "after" {
			found = true
			if r.Offset == 0 {
				t.Errorf("new record got offset 0: old records were overwritten")
			}
		}
	}
	if !found {
		t.Errorf("LastRecords did not return the record produced after the restart")
	}
}

func TestBrokerAddressInUse(t *testing.T) {
	b := startBroker(t, "")
	cfg := DefaultBrokerConfig()
	cfg.Addr = b.Addr()
	_, err := StartBroker(cfg)
	if err == nil || !strings.Contains(err.Error(), "--broker-addr") {
		t.Fatalf("second broker on %s: error %v, want one that suggests --broker-addr", b.Addr(), err)
	}
}

func TestClientConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  ClientConfig
		want string
	}{
		{"no brokers", ClientConfig{}, "brokers"},
		{"bad broker", ClientConfig{Brokers: []string{"localhost"}}, "host:port"},
		{"bad port", ClientConfig{Brokers: []string{"localhost:x"}}, "port"},
		{"unknown sasl", ClientConfig{Brokers: []string{"a:1"}, SASLMechanism: "GSSAPI"}, "SASL mechanism"},
		{"plain without user", ClientConfig{Brokers: []string{"a:1"}, SASLMechanism: "PLAIN"}, "--kafka-sasl-user"},
		{"cert without key", ClientConfig{Brokers: []string{"a:1"}, TLSCertFile: "c.pem"}, "--kafka-tls-key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	ok := ClientConfig{Brokers: []string{"b-1.msk.example:9098"}, SASLMechanism: "AWS_MSK_IAM", TLS: true}
	if _, err := ok.Opts(nil); err != nil {
		t.Fatalf("MSK IAM config: %v", err)
	}
	scram := ClientConfig{Brokers: []string{"a:1"}, SASLMechanism: "SCRAM-SHA-512", SASLUser: "u", SASLPassword: "secret"}
	if s := scram.String(); strings.Contains(s, "secret") {
		t.Errorf("String() = %q leaks the password", s)
	}
}

// TestBrokerSegmentsRoll: the broker starts a new segment file every
// segmentBytes, so a restart reads the log a segment at a time rather than
// a partition's whole log at once, and a log of several segments is read
// back whole after a restart.
func TestBrokerSegmentsRoll(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b := startBroker(t, dir)
	cl := client(t, b.Addr(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err := EnsureTopics(ctx, kadm.NewClient(cl), 1, -1, TopicRaw); err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 64<<10)
	n := 3*segmentBytes/len(value) + 1
	for i := range n {
		value[0], value[1] = byte(i), byte(i>>8)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: TopicRaw, Value: slices.Clone(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	b.Close()
	segments, err := filepath.Glob(filepath.Join(dir, "partitions", TopicRaw+"-0", "*.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(segments) < 3 {
		t.Fatalf("%d MiB in %d segment files %v, want a file every %d MiB", n*len(value)>>20, len(segments), segments, segmentBytes>>20)
	}
	for _, s := range segments {
		fi, err := os.Stat(s)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > segmentBytes+2*int64(len(value)) {
			t.Errorf("segment %s: %d bytes, want at most about %d", s, fi.Size(), segmentBytes)
		}
	}
	got := consumeAll(t, startBroker(t, dir).Addr(), TopicRaw, n)
	for i, r := range got {
		if int(r.Value[0])|int(r.Value[1])<<8 != i%(1<<16) || len(r.Value) != len(value) {
			t.Fatalf("record %d after the restart is not the one produced", i)
		}
	}
}
