package ingest

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/gen"
)

// BenchmarkIngest produces generated events through the whole ingest stage
// (decode, validate, event_id, produce, acknowledge) into an embedded
// broker. Reported as events/s.
func BenchmarkIngest(b *testing.B) {
	cfg := gen.DefaultConfig()
	cfg.Count = 50000
	g, err := gen.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var msgs [][]byte
	var size int64
	for {
		l, ok := g.Next()
		if !ok {
			break
		}
		msgs = append(msgs, l)
		size += int64(len(l))
	}
	addr := startBroker(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		ic := testConfig()
		ic.Now = nil
		ic.Resume = false
		st, err := New(ic, &sliceSource{name: "mem://bench", msgs: msgs}, []kgo.Opt{kgo.SeedBrokers(addr)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(msgs)*b.N)/b.Elapsed().Seconds(), "events/s")
}
