package gold

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/wikistream/wikistream/internal/lakehouse"
)

// The risk score needs, per entity and day, a handful of counters, an
// hourly histogram, the set of wikis and the first few edits. Gold keeps
// them in memory between runs and adds only the rows of new silver files,
// instead of re-reading the whole day from silver on every run: a day of
// 1M events cost DuckDB about 350 MB and a full scan per run; the
// activities of its 89k editors take a few tens of MB.

// sampleSize is how many pages and revisions the evidence names.
const sampleSize = 5

// sample is one edit in an entity's samples, ordered by (ts, id), with
// what the risk feed shows of it (a link to its diff on its wiki) and the
// lists it may belong to.
type sample struct {
	ts        int64 // event_timestamp, microseconds
	rev       int64
	revOld    int64
	delta     int64
	id        string
	title     string
	domain    string // the day's copy (dayActivity.intern)
	lists     uint8  // the lists whose kind the edit is of (listTitles...)
	hasRevOld bool
}

func (a sample) less(b sample) bool { return a.ts < b.ts || (a.ts == b.ts && a.id < b.id) }

func (a sample) compare(b sample) int {
	if a.less(b) {
		return -1
	}
	if b.less(a) {
		return 1
	}
	return 0
}

// The evidence's four lists, each the sampleSize earliest edits of its
// kind: with a title, with a revision, and the same among large deletions.
const (
	listTitles uint8 = 1 << iota
	listRevs
	listDelTitles
	listDelRevs
	numLists = 4
)

// samples holds, in (ts, id) order, exactly the edits at least one list
// keeps: a list keeps an edit of its kind when fewer than sampleSize
// earlier edits of that kind are held. Most edits have a title and a
// revision, so one copy serves two lists where separate lists held two.
type samples []sample

// wants reports whether add would keep s, and where it goes.
func (ss samples) wants(s sample) (int, bool) {
	i, _ := slices.BinarySearchFunc(ss, s, sample.compare)
	if s.lists == 0 {
		return i, false
	}
	var before [numLists]int
	for _, k := range ss[:i] {
		for l := range numLists {
			if k.lists&(1<<l) != 0 {
				before[l]++
			}
		}
	}
	for l := range numLists {
		if s.lists&(1<<l) != 0 && before[l] < sampleSize {
			return i, true
		}
	}
	return i, false
}

// add inserts s at i (from wants) and drops the edits no list keeps any
// more. Its strings must not point into an Arrow buffer (see
// entityDay.add).
func (ss *samples) add(i int, s sample) {
	out := *ss
	if len(out) == cap(out) {
		// One more up to sampleSize, which most entities never pass
		// (append's doubling would leave a third of the room unused), then
		// half as many again: the lists keep different edits.
		room := len(out) + 1
		if len(out) >= sampleSize {
			room = len(out) * 3 / 2
		}
		out = append(make(samples, 0, room), out...)
	}
	out = slices.Insert(out, i, s)
	var held [numLists]int
	n := 0
	for _, k := range out {
		keep := false
		for l := range numLists {
			if k.lists&(1<<l) != 0 {
				keep = keep || held[l] < sampleSize
				held[l]++
			}
		}
		if keep {
			out[n] = k
			n++
		}
	}
	clear(out[n:])
	*ss = out[:n]
}

// of returns the edits list l keeps, in order.
func (ss samples) of(l uint8) []sample {
	out := make([]sample, 0, sampleSize)
	for _, k := range ss {
		if k.lists&l != 0 && len(out) < sampleSize {
			out = append(out, k)
		}
	}
	return out
}

func (ss samples) titles(l uint8) []string {
	out := make([]string, 0, sampleSize)
	for _, k := range ss {
		if k.lists&l != 0 && len(out) < sampleSize {
			out = append(out, k.title)
		}
	}
	return out
}

func (ss samples) revs(l uint8) []int64 {
	out := make([]int64, 0, sampleSize)
	for _, k := range ss {
		if k.lists&l != 0 && len(out) < sampleSize {
			out = append(out, k.rev)
		}
	}
	return out
}

// entityDay is what one entity did on one day: the input of its score.
// A day holds hundreds of thousands of them, so it is kept small.
type entityDay struct {
	edits, anonymous, largeDeletions int64
	minDelta                         int64
	hours                            [24]int32
	domains                          []string // sorted, distinct; the day's copies (dayActivity.intern)
	domainEdits                      []int32  // edits per wiki, parallel to domains (for the top domain)
	kept                             samples
	bot, allAnonymous                bool
	// dirty: a row was added since the table's row of the entity was
	// written. A run scores only the dirty entities and copies the others'
	// rows (all 89k editors of a 1M-event day, scored again on every run,
	// cost gold 4 s of CPU per million events).
	dirty bool
}

// activityRow is one silver row as the risk score reads it.
type activityRow struct {
	entity, domain, title, id     string
	hasTitle, hasRev, hasRevOld   bool
	rev, revOld, ts, delta        int64
	hour                          int32
	bot, anonymous, largeDeletion bool
}

// add counts r towards the entity's day. r.domain must be the day's copy
// (dayActivity.intern): the entity keeps it.
func (e *entityDay) add(r activityRow) {
	e.dirty = true
	if e.edits == 0 {
		e.minDelta, e.allAnonymous = r.delta, true
	}
	e.edits++
	e.minDelta = min(e.minDelta, r.delta)
	if r.hour >= 0 && r.hour < 24 {
		e.hours[r.hour]++
	}
	i, found := slices.BinarySearch(e.domains, r.domain)
	if !found {
		e.domains = slices.Insert(e.domains, i, r.domain)
		e.domainEdits = slices.Insert(e.domainEdits, i, 0)
	}
	e.domainEdits[i]++
	e.bot = e.bot || r.bot
	e.allAnonymous = e.allAnonymous && r.anonymous
	if r.anonymous {
		e.anonymous++
	}
	if r.largeDeletion {
		e.largeDeletions++
	}
	s := sample{ts: r.ts, id: r.id, title: r.title, domain: r.domain, rev: r.rev, revOld: r.revOld,
		delta: r.delta, hasRevOld: r.hasRevOld}
	if r.hasTitle {
		s.lists |= listTitles
		if r.largeDeletion {
			s.lists |= listDelTitles
		}
	}
	if r.hasRev {
		s.lists |= listRevs
		if r.largeDeletion {
			s.lists |= listDelRevs
		}
	}
	if i, ok := e.kept.wants(s); ok {
		// Copies: the strings point into the Arrow buffers of the batch
		// they were read from, which they would keep alive for as long as
		// the day is held (115 MB of silver columns for a 1M-event day).
		s.id, s.title = strings.Clone(s.id), strings.Clone(s.title)
		e.kept.add(i, s)
	}
}

// topDomain is the wiki with the most edits, the first by name on a tie.
func (e *entityDay) topDomain() string {
	top := -1
	for i, n := range e.domainEdits {
		if top < 0 || n > e.domainEdits[top] { // domains is sorted: the first of a tie is the smallest
			top = i
		}
	}
	if top < 0 {
		return ""
	}
	return e.domains[top]
}

// samples are the edits the revision samples name, those of the large
// deletions included (once each), ordered as the risk feed lists them:
// the largest removals first, then by (ts, id).
func (e *entityDay) samples() []Sample {
	revs, delRevs := e.kept.of(listRevs), e.kept.of(listDelRevs)
	all := make([]sample, 0, len(revs)+len(delRevs))
	all = append(all, revs...)
	for _, d := range delRevs {
		if !slices.ContainsFunc(revs, func(s sample) bool { return s.id == d.id }) {
			all = append(all, d)
		}
	}
	slices.SortFunc(all, func(a, b sample) int {
		return cmp.Or(cmp.Compare(a.delta, b.delta), cmp.Compare(a.ts, b.ts), cmp.Compare(a.id, b.id))
	})
	out := make([]Sample, len(all))
	for i, s := range all {
		out[i] = Sample{Domain: s.domain, RevisionNew: s.rev, LengthDelta: s.delta,
			// As the SQL engine renders a TIMESTAMPTZ (query.Result.JSONValue),
			// the form the risk feed served when it read the edits from silver.
			EventTimestamp: time.UnixMicro(s.ts).UTC().Format(time.RFC3339Nano)}
		if s.lists&listTitles != 0 {
			out[i].Title = &s.title
		}
		if s.hasRevOld {
			out[i].RevisionOld = &s.revOld
		}
	}
	return out
}

// activity turns the state into the risk score's input. The peak hour is
// the earliest of the busiest hours.
func (e *entityDay) activity(date, entity string) Activity {
	a := e.counts()
	a.Date, a.Entity, a.LargestRemoval = date, entity, e.minDelta
	a.DomainList = e.domains[:min(len(e.domains), 10)]
	a.DeletionTitles, a.DeletionRevs = e.kept.titles(listDelTitles), e.kept.revs(listDelRevs)
	a.SampleTitles, a.SampleRevisions = e.kept.titles(listTitles), e.kept.revs(listRevs)
	a.IsBot, a.Anonymous = e.bot, e.allAnonymous
	a.TopDomain, a.Samples = e.topDomain(), e.samples()
	return a
}

// counts is the part of the activity the score reads (ScoreOnly), which
// allocates nothing.
func (e *entityDay) counts() Activity {
	peak := int32(0)
	for h := range e.hours {
		if e.hours[h] > e.hours[peak] {
			peak = int32(h)
		}
	}
	return Activity{Edits: e.edits, PeakHourEdits: int64(e.hours[peak]), PeakHour: peak,
		LargeDeletions: e.largeDeletions, AnonymousEdits: e.anonymous, Domains: int64(len(e.domains))}
}

// dayActivity is every entity's activity on one day.
type dayActivity struct {
	entities map[string]*entityDay
	// names holds one copy of each wiki's name, which the entities'
	// domains and samples share: a day has a few hundred wikis, and
	// hundreds of thousands of entities naming them.
	names map[string]string
	used  int64 // the run that last touched it, for eviction
}

// activityColumns are the silver columns the risk score reads, in the
// order rowsOf expects them.
var activityColumns = []string{"event_date", "user_normalized", "event_hour", "domain", "title", "revision_new",
	"event_timestamp", "event_id", "is_bot", "is_anonymous", "is_large_deletion", "length_delta", "is_valid", "event_type",
	"revision_old"}

// rowsOf calls fn with the date and the activity row of every silver row
// of rec that counts towards a risk score: valid edits and page creations
// by a known user.
func rowsOf(rec arrow.RecordBatch, fn func(date string, r activityRow)) error {
	if int(rec.NumCols()) != len(activityColumns) {
		return fmt.Errorf("risk: %d columns, want %d", rec.NumCols(), len(activityColumns))
	}
	date, ok0 := rec.Column(0).(*array.String)
	user, ok1 := rec.Column(1).(*array.String)
	hour, ok2 := rec.Column(2).(*array.Int32)
	domain, ok3 := rec.Column(3).(*array.String)
	title, ok4 := rec.Column(4).(*array.String)
	rev, ok5 := rec.Column(5).(*array.Int64)
	ts, ok6 := rec.Column(6).(*array.Timestamp)
	id, ok7 := rec.Column(7).(*array.String)
	bot, ok8 := rec.Column(8).(*array.Boolean)
	anon, ok9 := rec.Column(9).(*array.Boolean)
	del, ok10 := rec.Column(10).(*array.Boolean)
	delta, ok11 := rec.Column(11).(*array.Int64)
	valid, ok12 := rec.Column(12).(*array.Boolean)
	typ, ok13 := rec.Column(13).(*array.String)
	revOld, ok14 := rec.Column(14).(*array.Int64)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8 && ok9 && ok10 && ok11 && ok12 && ok13 && ok14) {
		return fmt.Errorf("risk: unexpected silver column types %s", rec.Schema())
	}
	for i := range int(rec.NumRows()) {
		if !valid.Value(i) || user.IsNull(i) {
			continue
		}
		if t := typ.Value(i); t != "edit" && t != "new" {
			continue
		}
		fn(date.Value(i), activityRow{entity: user.Value(i), domain: domain.Value(i),
			title: title.Value(i), hasTitle: title.IsValid(i), rev: rev.Value(i), hasRev: rev.IsValid(i),
			revOld: revOld.Value(i), hasRevOld: revOld.IsValid(i),
			ts: int64(ts.Value(i)), id: id.Value(i), delta: delta.Value(i), hour: hour.Value(i),
			bot: bot.Value(i), anonymous: anon.Value(i), largeDeletion: del.Value(i)})
	}
	return nil
}

// addRows adds the rows of rec to the days in state (days absent from
// state are skipped: they are loaded whole when needed).
func addRows(state map[string]*dayActivity, rec arrow.RecordBatch) error {
	return rowsOf(rec, func(date string, r activityRow) {
		d := state[date]
		if d == nil {
			return
		}
		r.domain = d.intern(r.domain)
		e := d.entities[r.entity]
		if e == nil {
			e = &entityDay{}
			d.entities[strings.Clone(r.entity)] = e
		}
		e.add(r)
	})
}

// intern returns the day's copy of a wiki's name, made on its first use:
// name may point into an Arrow buffer.
func (d *dayActivity) intern(name string) string {
	if c, ok := d.names[name]; ok {
		return c
	}
	if d.names == nil {
		d.names = map[string]string{}
	}
	c := strings.Clone(name)
	d.names[c] = c
	return c
}

// loadDay reads one day of silver at the table's current snapshot.
func loadDay(ctx context.Context, silverTbl *table.Table, date string) (*dayActivity, error) {
	d := &dayActivity{entities: map[string]*entityDay{}}
	_, recs, err := silverTbl.Scan(
		table.WithRowFilter(iceberg.EqualTo(iceberg.Reference("event_date"), date)),
		table.WithSelectedFields(activityColumns...)).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("read silver day %s: %w", date, err)
	}
	state := map[string]*dayActivity{date: d}
	for rec, err := range recs {
		if err != nil {
			return nil, fmt.Errorf("read silver day %s: %w", date, err)
		}
		// The scan may return the columns in schema order: put them in ours.
		ordered, err := selectColumns(rec, activityColumns)
		rec.Release()
		if err != nil {
			return nil, err
		}
		err = addRows(state, ordered)
		ordered.Release()
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

// selectColumns returns rec's columns named cols, in that order.
func selectColumns(rec arrow.RecordBatch, cols []string) (arrow.RecordBatch, error) {
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	for i, name := range cols {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("risk: silver has no column %s", name)
		}
		fields[i], arrs[i] = rec.Schema().Field(idx[0]), rec.Column(idx[0])
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, rec.NumRows()), nil
}

// dirtyEntities returns the day's dirty entities with their scores, in
// the table's order (riskKey.compare).
func (d *dayActivity) dirtyEntities() []riskKey {
	out := []riskKey{}
	for name, e := range d.entities {
		if e.dirty {
			out = append(out, riskKey{score: float64(ScoreOnly(e.counts())), edits: e.edits, entity: name})
		}
	}
	slices.SortFunc(out, riskKey.compare)
	return out
}

// written marks every entity of the day clean: the table has its row.
func (d *dayActivity) written() {
	for _, e := range d.entities {
		e.dirty = false
	}
}

// activityRows reads the activity columns of one silver data file.
func activityRows(ctx context.Context, silverTbl *table.Table, f lakehouse.AddedFile, fn func(arrow.RecordBatch) error) error {
	return lakehouse.ReadFile(ctx, silverTbl, f.File, activityColumns, fn)
}
