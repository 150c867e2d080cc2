package gold_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/gen"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/stagetest"
)

// goldState is every gold row, without the processing time, in order.
func goldState(tb testing.TB, p *stagetest.Pipeline) string {
	hourly := p.Query(tb, "SELECT * EXCLUDE (gold_processed_at) FROM gold.hourly_stats ORDER BY ALL")
	risk := p.Query(tb, "SELECT * EXCLUDE (gold_processed_at) FROM gold.risk_scores ORDER BY ALL")
	return fmt.Sprint(hourly) + "\n" + fmt.Sprint(risk)
}

// TestIncrementalEqualsOneBatch is the property that makes gold trustworthy:
// random event sets, split into random incremental batches (with
// duplicates, late events, and stages restarted between batches), give gold
// tables identical to processing everything in one batch.
//
// Seed 4 spreads the events over three days and holds a tenth back to the
// end, so that late events touch days written long before. A stage that
// keeps its activity copies the rows of untouched entities from the table,
// and the test fails if it copied none. It also lets go of days once the
// events have moved on, so the late events make it read days whole again,
// and the test fails if none was.
func TestIncrementalEqualsOneBatch(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			cfg := gen.DefaultConfig()
			cfg.Count, cfg.Seed, cfg.Duplicates, cfg.OutOfOrder, cfg.VandalBurst = 1200, seed, 0.1, 0.2, 60
			cfg.Rate = 0.5 // about 40 minutes of events: several hours are touched
			if seed == 4 {
				cfg.Rate = float64(cfg.Count) / (3 * 24 * 3600)
			}
			events, err := gen.Lines(cfg)
			if err != nil {
				t.Fatal(err)
			}

			one := stagetest.New(t)
			feed(t, one, events)
			g1, err := gold.New(context.Background(), gold.DefaultConfig(), one.LH)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g1.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			g1.Close()
			want := goldState(t, one)

			r := rand.New(rand.NewPCG(uint64(seed), 99))
			shuffled := append([][]byte(nil), events...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if seed == 4 {
				// In order, but a tenth held back to the end: days go idle,
				// then late events touch them again.
				shuffled = holdBackTenth(events, r)
			}
			// Re-send a random slice at the end: duplicates across batches.
			shuffled = append(shuffled, shuffled[:r.IntN(len(shuffled)/4)]...)
			inc := stagetest.New(t)
			// One stage keeps its in-memory activity across runs; another is
			// a fresh process (a restart) each time it runs.
			kept, err := gold.New(context.Background(), gold.DefaultConfig(), inc.LH)
			if err != nil {
				t.Fatal(err)
			}
			defer kept.Close()
			for len(shuffled) > 0 {
				n, op := min(len(shuffled), 1+r.IntN(500)), r.IntN(3)
				if seed == 4 { // many runs of the kept stage
					n, op = min(len(shuffled), 1+r.IntN(120)), r.IntN(2)
				}
				feed(t, inc, shuffled[:n])
				shuffled = shuffled[n:]
				switch op {
				case 0: // gold waits for several silver commits
				case 1:
					if _, err := kept.RunOnce(context.Background()); err != nil {
						t.Fatal(err)
					}
				case 2:
					g, err := gold.New(context.Background(), gold.DefaultConfig(), inc.LH)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := g.RunOnce(context.Background()); err != nil {
						t.Fatal(err)
					}
					g.Close()
				}
			}
			if _, err := kept.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if seed == 4 && gold.RiskRowsCopied(kept) == 0 {
				t.Errorf("the kept stage copied no risk row: the test does not exercise copying untouched entities")
			}
			if loads, reloads := gold.DaysLoaded(kept); seed == 4 && reloads == 0 {
				t.Errorf("the kept stage read %d days whole and none again after letting it go: the test does not exercise reloading", loads)
			}
			if got := goldState(t, inc); got != want {
				t.Errorf("incremental gold differs from one batch:\ngot  %.600s\nwant %.600s", got, want)
			}
			checkRiskOrder(t, one)
			checkRiskOrder(t, inc)
		})
	}
}

// checkRiskOrder fails unless every data file of gold.risk_scores holds
// one day's rows in the order the risk feed reads them by: the highest
// score first, then the most edits, then by entity; and in row groups of
// the head rows, then full groups but the last (gold.RiskRowGroups). It
// returns the most row groups a file has.
func checkRiskOrder(t *testing.T, p *stagetest.Pipeline) int {
	t.Helper()
	ctx := context.Background()
	tbl, err := p.LH.Load(ctx, lakehouse.GoldRiskScores)
	if err != nil {
		t.Fatal(err)
	}
	// The order checked below is the one the table declares its files in,
	// which the risk feed relies on (query.At.Head).
	if got, want := tbl.Properties()[lakehouse.PropFileOrder], "risk_score DESC, total_edits DESC, entity_id"; got != want {
		t.Errorf("gold.risk_scores declares its files ordered by %q; this checks %q", got, want)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, most := 0, 0
	head, rest := gold.RiskRowGroups()
	for _, task := range tasks {
		groups := rowGroups(t, tbl, task.File)
		most = max(most, len(groups))
		want := []int64{min(int64(head), task.File.Count())}
		for left := task.File.Count() - want[0]; left > 0; left -= int64(rest) {
			want = append(want, min(left, int64(rest)))
		}
		if !slices.Equal(groups, want) {
			t.Errorf("%s: row groups of %v rows, want %v", task.File.FilePath(), groups, want)
		}
		type key struct {
			date, entity string
			score        float64
			edits        int64
		}
		var prev *key
		err := lakehouse.ReadFile(ctx, tbl, task.File, []string{"stat_date", "entity_id", "risk_score", "total_edits"}, func(rec arrow.RecordBatch) error {
			dates, entities := rec.Column(0).(*array.String), rec.Column(1).(*array.String)
			scores, edits := rec.Column(2).(*array.Float64), rec.Column(3).(*array.Int64)
			for i := range int(rec.NumRows()) {
				k := key{dates.Value(i), entities.Value(i), scores.Value(i), edits.Value(i)}
				rows++
				if prev != nil {
					order := cmp.Or(cmp.Compare(k.score, prev.score), cmp.Compare(k.edits, prev.edits), cmp.Compare(prev.entity, k.entity))
					if k.date != prev.date || order >= 0 {
						return fmt.Errorf("%s: row %+v follows %+v", task.File.FilePath(), k, *prev)
					}
				}
				prev = &k
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if rows == 0 {
		t.Fatal("gold.risk_scores has no rows")
	}
	return most
}

// rowGroups returns the rows of each row group of a data file.
func rowGroups(t *testing.T, tbl *table.Table, df iceberg.DataFile) []int64 {
	t.Helper()
	fs, err := tbl.FS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f, err := fs.Open(df.FilePath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var out []int64
	for _, rg := range pr.MetaData().RowGroups {
		out = append(out, rg.NumRows)
	}
	return out
}
