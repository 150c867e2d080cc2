package gold

import (
	"context"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// SetChunkRows sets how many rows one record of a gold commit holds until
// restore is called, so that tests with few rows still write several
// records.
func SetChunkRows(n int) (restore func()) {
	old := chunkRows
	chunkRows = n
	return func() { chunkRows = old }
}

// RiskRowGroups are the rows of the head row group of each day's file of
// gold.risk_scores and of each later one.
func RiskRowGroups() (head, rest int) { return riskHeadRows(), riskRecordRows() }

// SetKeepHours sets how many hours of rollup state a stage keeps until
// restore is called.
func SetKeepHours(n int) (restore func()) {
	old := keepHours
	keepHours = n
	return func() { keepHours = old }
}

// RollupLoads is how many hours the stage's rollups read back from their
// tables.
func RollupLoads(s *Stage) int {
	n := 0
	for _, ru := range s.rollups {
		n += ru.loads
	}
	return n
}

// HourlyReadWhole is how many hours of gold.hourly_stats the stage read
// whole from silver instead of adding new rows to the hours it keeps.
func HourlyReadWhole(s *Stage) int { return s.hourlyState.recomputed }

// RiskRowsCopied is how many gold.risk_scores rows of untouched
// entities the stage copied from the table instead of scoring them again.
func RiskRowsCopied(s *Stage) int { return s.riskCopied }

// DaysLoaded is how many days of activity the stage read whole from
// silver, and how many of them it had let go of before.
func DaysLoaded(s *Stage) (loads, reloads int) { return s.loads, len(s.reloaded) }

// SetDailyPartRows sets how many hourly rows a part of a day sums at most
// until restore is called.
func SetDailyPartRows(n int64) (restore func()) {
	old := dailyPartRows
	dailyPartRows = n
	return func() { dailyPartRows = old }
}

// FailDailyCommits makes the next n daily commits fail with err until
// restore is called.
func FailDailyCommits(n int, err error) (restore func()) {
	dailyCommitHook = func() error {
		if n == 0 {
			return nil
		}
		n--
		return err
	}
	return func() { dailyCommitHook = nil }
}

// DailyWritten is how many days the stage's daily rollups wrote, how many
// they merged from ordered hourly files, and how many parts they summed
// the others in.
func DailyWritten(s *Stage) (days, merged, parts int) {
	for _, ru := range s.rollups {
		days += ru.daily.written
		merged += ru.daily.merged
		parts += ru.daily.parts
	}
	return days, merged, parts
}

// SetDailyMerge lets days be merged from ordered hourly files (true) or
// summed in parts until restore is called.
func SetDailyMerge(on bool) (restore func()) {
	old := dailyMerge
	dailyMerge = on
	return func() { dailyMerge = old }
}

// BeforeBacklogCheck has fn called each time a run looks for silver
// commits it has not read before writing days, until restore is called.
func BeforeBacklogCheck(fn func()) (restore func()) {
	silverAheadHook = fn
	return func() { silverAheadHook = nil }
}

// SetBeforeRisk has s call f as each risk refresh starts.
func SetBeforeRisk(s *Stage, f func()) { s.beforeRisk = f }

// RefreshRisk runs one refresh of gold.risk_scores alone, up to silver's
// head.
func RefreshRisk(ctx context.Context, s *Stage) (days, rows int, err error) {
	silverTbl, err := s.lh.Load(ctx, lakehouse.SilverCleanedEvents)
	if err != nil {
		return 0, 0, err
	}
	return s.refreshRisk(ctx, silverTbl, lakehouse.Head(silverTbl))
}
