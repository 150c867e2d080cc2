// Package stagetest runs the real upstream stages for tests of the stages
// below them: an embedded broker, a lakehouse in a temporary directory, and
// bronze (and silver) fed with events, as in production. Stages never
// import each other; their tests may, through this package.
package stagetest

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/silver"
)

// Pipeline is a broker and a lakehouse for one test.
type Pipeline struct {
	Opts []kgo.Opt
	LH   *lakehouse.Lakehouse
}

// New starts an embedded broker with the raw and dead-letter topics, and
// opens a lakehouse in a temporary directory; both close with the test.
func New(tb testing.TB) *Pipeline {
	tb.Helper()
	bc := kafka.DefaultBrokerConfig()
	bc.Addr = "127.0.0.1:0"
	b, err := kafka.StartBroker(bc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	lh, err := lakehouse.Open(context.Background(), lakehouse.Config{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lh.Close() })
	p := &Pipeline{Opts: []kgo.Opt{kgo.SeedBrokers(b.Addr())}, LH: lh}
	cl, err := kgo.NewClient(p.Opts...)
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(context.Background(), kadm.NewClient(cl), 3, -1, kafka.TopicRaw, kafka.TopicDLQ); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Bronze produces events to raw-events and runs a bronze stage until it
// has committed all of them, and returns that stage's counts (a stage that
// resumed from the right offsets read only these events).
func (p *Pipeline) Bronze(tb testing.TB, events [][]byte) bronze.Stats {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl, err := kgo.NewClient(p.Opts...)
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(events))
	for i, v := range events {
		recs[i] = &kgo.Record{Topic: kafka.TopicRaw, Value: v}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tb.Fatal(err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, kafka.TopicRaw)
	if err != nil {
		tb.Fatal(err)
	}
	bc := bronze.DefaultConfig()
	bc.Interval = 100 * time.Millisecond
	st, err := bronze.New(bc, p.LH, p.Opts, nil)
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for caught := false; !caught; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("bronze did not commit the events within a minute")
		}
		off := st.Committed()
		caught = true
		ends.Each(func(o kadm.ListedOffset) { caught = caught && off[o.Topic][o.Partition] >= o.Offset })
	}
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return st.Stats()
}

// Silver runs the silver stage until it has read everything in bronze.
func (p *Pipeline) Silver(tb testing.TB) {
	tb.Helper()
	sv, err := silver.New(silver.DefaultConfig(), p.LH)
	if err != nil {
		tb.Fatal(err)
	}
	for {
		res, err := sv.RunOnce(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		if res.Caught {
			return
		}
	}
}

// Gold runs a gold stage once: both gold tables catch up with silver.
func (p *Pipeline) Gold(tb testing.TB) {
	tb.Helper()
	g, err := gold.New(context.Background(), gold.DefaultConfig(), p.LH)
	if err != nil {
		tb.Fatal(err)
	}
	defer g.Close()
	if _, err := g.RunUntilCaught(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// Query runs read-only SQL over every table and returns its rows.
func (p *Pipeline) Query(tb testing.TB, sql string) [][]any {
	tb.Helper()
	eng, err := query.Open(context.Background(), p.LH, lakehouse.Tables(), query.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(context.Background(), sql, query.At{})
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}
