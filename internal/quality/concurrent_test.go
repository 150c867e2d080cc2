package quality_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/quality"
)

// TestConsistentWhileStagesCommit: runs that overlap bronze, silver and
// gold commits still pass every check. Each run reads the snapshots it
// pinned when it started, and compares each stage with the upstream
// snapshot the stage had read; a check reading a table's newer state
// midway would see rows its counterpart lacks.
func TestConsistentWhileStagesCommit(t *testing.T) {
	p := pipeline(t, events(t)[:600])
	st := stage(t, p.LH, func(c *quality.Config) { c.ChunkRows = 500 })
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu      sync.Mutex
		reports []quality.Report
		errs    []error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			rep, err := st.RunOnce(ctx)
			if ctx.Err() != nil {
				return
			}
			mu.Lock()
			reports, errs = append(reports, rep), append(errs, err)
			mu.Unlock()
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(reports)
	}
	for i := range 8 {
		cfg := gen.DefaultConfig()
		cfg.Count, cfg.Seed, cfg.Start = 300, int64(100+i), time.Now().UTC().Add(-time.Duration(90-10*i)*time.Minute)
		batch, err := gen.Lines(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p.Bronze(t, batch)
		p.Silver(t)
		runGold(t, p)
	}
	// One more run that starts after the last commit.
	for n := count(); count() < n+2; {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	for i, rep := range reports {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		if f := rep.Failures(); len(f) > 0 {
			t.Errorf("run %d, overlapping commits: %d checks did not pass:%s", i, len(f), describe(rep))
		}
	}
	if len(reports) < 4 {
		t.Errorf("only %d runs overlapped the commits; want several", len(reports))
	}
	runs := len(reports)
	t.Logf("%d runs", runs)
}
