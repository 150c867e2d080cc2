package lakehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// BenchmarkOverwriteOpenHour times one commit of gold's kind (replace the
// rows of the open hour of gold.contributors_hourly) on a table with 30
// closed days, written as a live gold stage leaves them: the last commit
// of each hour replaced that hour, so each hour's file is in a manifest of
// its own (720 in all). "accumulated" is that table;
// "maintained" is it after a maintenance run merged the closed days'
// manifests (manifests.go):
//
//	go test -run '^$' -bench BenchmarkOverwriteOpenHour -benchtime 50x ./internal/lakehouse
func BenchmarkOverwriteOpenHour(b *testing.B) {
	ctx := context.Background()
	lh, err := lakehouse.Open(ctx, lakehouse.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer lh.Close()
	const days = 30
	w := newWriter(b, lh, lakehouse.ContributorsHourlyTable)
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	ident := lakehouse.ContributorsHourlyTable.Ident
	overwrite := func(b *testing.B, hour time.Time) {
		rec := w.record(b, w.inHour(hour, 20))
		defer rec.Release()
		open := iceberg.NewAnd(iceberg.EqualTo(iceberg.Reference("stat_date"), hour.Format(time.DateOnly)),
			iceberg.EqualTo(iceberg.Reference("stat_hour"), int32(hour.Hour())))
		_, err := lh.Commit(ctx, ident, func(ctx context.Context, tbl *table.Table, tx *table.Transaction) error {
			rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
			if err != nil {
				return err
			}
			defer rdr.Release()
			return tx.Overwrite(ctx, rdr, nil, table.WithOverwriteFilter(open))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for h := now.Truncate(24*time.Hour).AddDate(0, 0, -days); h.Before(now); h = h.Add(time.Hour) {
		overwrite(b, h)
	}
	manifests := func(b *testing.B) int {
		return len(manifestDays(b, load(b, lh, ident)))
	}
	b.Run("accumulated", func(b *testing.B) {
		for b.Loop() {
			overwrite(b, now.Truncate(time.Hour))
		}
		b.ReportMetric(float64(manifests(b)), "manifests")
	})
	m := maintainer(b, lh, func(c *lakehouse.MaintainConfig) {
		c.Tables, c.Now = []table.Identifier{ident}, func() time.Time { return now }
	})
	if _, err := m.RunOnce(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("maintained", func(b *testing.B) {
		for b.Loop() {
			overwrite(b, now.Truncate(time.Hour))
		}
		b.ReportMetric(float64(manifests(b)), "manifests")
	})
}
