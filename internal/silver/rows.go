package silver

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/wikimedia/sites"
)

// bronzeColumns are the bronze.raw_events columns silver reads, in order.
var bronzeColumns = []string{
	"event_id", "rc_id", "event_type", "domain", "wiki", "namespace", "title", "comment", "user",
	"is_bot", "is_minor", "is_patrolled", "length_old", "length_new", "revision_old", "revision_new",
	"event_timestamp",
}

// opt is an optional value read from bronze.
type opt[T any] struct {
	v  T
	ok bool
}

// row is one silver row.
type row struct {
	key  lakehouse.Key
	part string // "2026-11-25/europe"

	eventID, eventType, domain, project, language, region string
	wiki, title, comment, user                            opt[string]
	rcID, lengthOld, lengthNew, revOld, revNew            opt[int64]
	namespace                                             opt[int32]
	isMinor, isPatrolled                                  opt[bool]
	userNormalized                                        string
	isBot, isIP, isTemp                                   bool
	lengthDelta                                           int64
	errors                                                []string
	largeDeletion, blanking, newPage                      bool
	ts                                                    time.Time
}

func rowPart(r row) string       { return r.part }
func rowKey(r row) lakehouse.Key { return r.key }

// The validity checks of silver, by the name recorded in validation_errors.
const (
	checkMissingTitle   = "missing_title"
	checkMissingUser    = "missing_user"
	checkNegativeLength = "negative_length"
	checkRevisionOrder  = "revision_not_increasing"
	checkNamespace      = "invalid_namespace"
)

// clean derives a silver row from a bronze event. It is a pure function of
// the bronze row, which is what makes silver idempotent.
func clean(r row, largeDeletion int64) row {
	site := sites.Lookup(r.domain)
	r.project, r.language, r.region = site.Project, site.Language, site.Region
	if r.user.ok {
		r.userNormalized = NormalizeUser(r.user.v)
		r.isIP = IsIP(r.user.v)
		r.isTemp = IsTemporaryAccount(r.user.v)
	}
	if r.lengthNew.ok || r.lengthOld.ok {
		r.lengthDelta = r.lengthNew.v - r.lengthOld.v
	}
	if !r.title.ok || strings.TrimSpace(r.title.v) == "" {
		r.errors = append(r.errors, checkMissingTitle)
	}
	if !r.user.ok || strings.TrimSpace(r.user.v) == "" {
		r.errors = append(r.errors, checkMissingUser)
	}
	if (r.lengthNew.ok && r.lengthNew.v < 0) || (r.lengthOld.ok && r.lengthOld.v < 0) {
		r.errors = append(r.errors, checkNegativeLength)
	}
	if r.eventType == "edit" && r.revOld.ok && r.revNew.ok && r.revOld.v != 0 && r.revNew.v <= r.revOld.v {
		r.errors = append(r.errors, checkRevisionOrder)
	}
	if r.namespace.ok && r.namespace.v < -2 {
		r.errors = append(r.errors, checkNamespace)
	}
	r.largeDeletion = r.lengthDelta <= -largeDeletion
	r.blanking = r.eventType == "edit" && r.lengthNew.ok && r.lengthNew.v == 0 && r.lengthOld.v > 0
	r.newPage = r.eventType == "new"
	r.part = r.ts.Format(time.DateOnly) + "/" + r.region
	return r
}

// appendRows appends the silver rows of the bronze rows in rec.
func (s *Stage) appendRows(rows []row, rec arrow.RecordBatch) ([]row, error) {
	c := func(i int) arrow.Array { return rec.Column(i) }
	str := func(i, j int) opt[string] {
		a := c(i).(*array.String)
		if a.IsNull(j) {
			return opt[string]{}
		}
		return opt[string]{a.Value(j), true}
	}
	i64 := func(i, j int) opt[int64] {
		a := c(i).(*array.Int64)
		if a.IsNull(j) {
			return opt[int64]{}
		}
		return opt[int64]{a.Value(j), true}
	}
	boolean := func(i, j int) opt[bool] {
		a := c(i).(*array.Boolean)
		if a.IsNull(j) {
			return opt[bool]{}
		}
		return opt[bool]{a.Value(j), true}
	}
	for j := range int(rec.NumRows()) {
		id := str(0, j).v
		k, ok := lakehouse.ParseKey(id)
		if !ok {
			return rows, fmt.Errorf("bronze row with a bad event_id %q", id)
		}
		var ns opt[int32]
		if a := c(5).(*array.Int32); !a.IsNull(j) {
			ns = opt[int32]{a.Value(j), true}
		}
		ts := c(16).(*array.Timestamp).Value(j).ToTime(arrow.Microsecond).UTC()
		r := row{key: k, eventID: id, rcID: i64(1, j), eventType: str(2, j).v, domain: str(3, j).v,
			wiki: str(4, j), namespace: ns, title: str(6, j), comment: str(7, j), user: str(8, j),
			isBot: boolean(9, j).v, isMinor: boolean(10, j), isPatrolled: boolean(11, j),
			lengthOld: i64(12, j), lengthNew: i64(13, j), revOld: i64(14, j), revNew: i64(15, j), ts: ts}
		rows = append(rows, clean(r, s.cfg.LargeDeletionBytes))
	}
	return rows, nil
}

// append writes the row in the column order of lakehouse.CleanedEventsTable.
func (r row) append(b *array.RecordBuilder, now time.Time) {
	i := 0
	next := func() array.Builder { f := b.Field(i); i++; return f }
	str := func(v string) { next().(*array.StringBuilder).Append(v) }
	ostr := func(v opt[string]) {
		f := next().(*array.StringBuilder)
		if !v.ok {
			f.AppendNull()
			return
		}
		f.Append(v.v)
	}
	oi64 := func(v opt[int64]) {
		f := next().(*array.Int64Builder)
		if !v.ok {
			f.AppendNull()
			return
		}
		f.Append(v.v)
	}
	boolean := func(v bool) { next().(*array.BooleanBuilder).Append(v) }
	obool := func(v opt[bool]) {
		f := next().(*array.BooleanBuilder)
		if !v.ok {
			f.AppendNull()
			return
		}
		f.Append(v.v)
	}
	ts := func(t time.Time) { next().(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro())) }

	str(r.eventID)
	oi64(r.rcID)
	str(r.eventType)
	str(r.domain)
	ostr(r.wiki)
	str(r.project)
	str(r.language)
	str(r.region)
	if f := next().(*array.Int32Builder); r.namespace.ok {
		f.Append(r.namespace.v)
	} else {
		f.AppendNull()
	}
	ostr(r.title)
	ostr(r.comment)
	ostr(r.user)
	ostr(opt[string]{r.userNormalized, r.user.ok})
	boolean(r.isBot)
	boolean(r.isIP || r.isTemp)
	boolean(r.isIP)
	boolean(r.isTemp)
	obool(r.isMinor)
	obool(r.isPatrolled)
	oi64(r.lengthOld)
	oi64(r.lengthNew)
	next().(*array.Int64Builder).Append(r.lengthDelta)
	oi64(r.revOld)
	oi64(r.revNew)
	boolean(len(r.errors) == 0)
	ostr(opt[string]{strings.Join(r.errors, ","), len(r.errors) > 0})
	boolean(r.largeDeletion)
	boolean(r.blanking)
	boolean(r.newPage)
	ts(r.ts)
	str(r.ts.Format(time.DateOnly))
	next().(*array.Int32Builder).Append(int32(r.ts.Hour()))
	ts(now)
	next().(*array.Int32Builder).Append(lakehouse.SilverSchemaVersion)
}
