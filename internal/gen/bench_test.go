package gen

import "testing"

// BenchmarkGenerate measures generation speed on one goroutine and reports
// events/s; SetBytes makes -bench also report MB/s of output.
func BenchmarkGenerate(b *testing.B) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"clean", DefaultConfig()},
		{"faults", allFaults(1, 0)}, // 5% duplicates, malformed and late lines
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.Count, cfg.VandalBurst = b.N, 0
			g, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var n int64
			for {
				line, ok := g.Next()
				if !ok {
					break
				}
				n += int64(len(line)) + 1
			}
			b.StopTimer()
			b.SetBytes(n / int64(b.N))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
