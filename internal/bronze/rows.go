package bronze

import (
	"crypto/md5"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
)

// row is one pending row of either table.
type row struct {
	key  lakehouse.Key
	part string // partition: "2026-11-25/13" (raw) or "2026-11-25" (dlq)
	rec  *kgo.Record
	ev   *recentchange.Event // raw rows
	dlq  *dlqInfo            // dead-letter rows
	ts   time.Time           // event time (raw) or first seen (dlq)
	// ingested is when ingest read the record (ingestedAt), parsed once.
	ingested time.Time
}

func rowPart(r row) string       { return r.part }
func rowKey(r row) lakehouse.Key { return r.key }

type dlqInfo struct {
	reason, detail, source, where, position string
}

// rawRow turns a raw-events record into a row. A record that is not a
// usable event (written by another producer, or damaged) becomes a
// dead-letter row instead: nothing is dropped.
func rawRow(r *kgo.Record) row {
	// The event's strings may point into r.Value: without kgo.WithPools the
	// client decompresses each batch into a fresh buffer and never reuses
	// it, and nothing here writes to it.
	ev, err := recentchange.ParseShared(r.Value)
	if err == nil {
		switch {
		case ev.Domain() == "":
			err = &recentchange.Invalid{Reason: recentchange.ReasonMissingField, Field: "meta.domain", Detail: "required field is absent or null"}
		case ev.Timestamp == nil:
			err = &recentchange.Invalid{Reason: recentchange.ReasonMissingField, Field: "timestamp", Detail: "required field is absent or null"}
		case ev.Type == "":
			err = &recentchange.Invalid{Reason: recentchange.ReasonMissingField, Field: "type", Detail: "required field is absent or null"}
		}
	}
	if err != nil {
		reason := string(recentchange.ReasonOf(err))
		return dlqRow(r, &dlqInfo{reason: reason, detail: "found on " + r.Topic + ": " + err.Error()})
	}
	k, _ := lakehouse.ParseKey(ev.EventID())
	ts := time.Unix(*ev.Timestamp, 0).UTC()
	return row{key: k, part: rawPartition(ts), rec: r, ev: ev, ts: ts, ingested: ingestedAt(r)}
}

func rawPartition(ts time.Time) string {
	return fmt.Sprintf("%s/%02d", ts.Format(time.DateOnly), ts.Hour())
}

// dlqRow turns a dlq-events record (or an unusable raw-events record, with
// info set) into a dead-letter row keyed by md5(source|position|raw).
func dlqRow(r *kgo.Record, info *dlqInfo) row {
	if info == nil {
		info = &dlqInfo{reason: kafka.Header(r, kafka.HeaderReason), detail: kafka.Header(r, kafka.HeaderDetail)}
		if info.reason == "" {
			info.reason = "unknown"
		}
	}
	info.source = kafka.Header(r, kafka.HeaderSource)
	info.where = kafka.Header(r, kafka.HeaderWhere)
	info.position = kafka.Header(r, kafka.HeaderPosition)
	if info.source == "" {
		// Not from ingest: the Kafka coordinates are the position.
		info.source = "kafka:" + r.Topic
		info.position = fmt.Sprintf("%d/%d", r.Partition, r.Offset)
	}
	h := md5.New()
	h.Write([]byte(info.source))
	h.Write([]byte{'|'})
	h.Write([]byte(info.position))
	h.Write([]byte{'|'})
	h.Write(r.Value)
	var k lakehouse.Key
	h.Sum(k[:0])
	seen := ingestedAt(r)
	return row{key: k, part: seen.Format(time.DateOnly), rec: r, dlq: info, ts: seen, ingested: seen}
}

// ingestedAt is when ingest read the record, or the record's Kafka time.
func ingestedAt(r *kgo.Record) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, kafka.Header(r, kafka.HeaderIngestedAt)); err == nil {
		return t.UTC()
	}
	return r.Timestamp.UTC()
}

// arrowSchema is the Arrow schema of a table definition.
func arrowSchema(def lakehouse.TableDef) (*arrow.Schema, error) {
	return table.SchemaToArrowSchema(def.Schema(), nil, false, false)
}

// columns appends one row's values to a record builder, column by column.
type columns struct {
	b   *array.RecordBuilder
	i   int
	now time.Time
}

func (c *columns) next() array.Builder { b := c.b.Field(c.i); c.i++; return b }

func (c *columns) str(s string) { c.next().(*array.StringBuilder).Append(s) }

// bytes appends UTF-8 text held in a byte slice to a string column,
// without converting it to a string first (a copy of every raw event).
func (c *columns) bytes(v []byte) { c.next().(*array.StringBuilder).BinaryBuilder.Append(v) }

func (c *columns) optStr(s string) {
	b := c.next().(*array.StringBuilder)
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}

func (c *columns) ptrStr(s *string) {
	b := c.next().(*array.StringBuilder)
	if s == nil {
		b.AppendNull()
		return
	}
	b.Append(*s)
}

func (c *columns) i32(v int32) { c.next().(*array.Int32Builder).Append(v) }

func (c *columns) ptrI32(v *int64) {
	b := c.next().(*array.Int32Builder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(int32(*v))
}

func (c *columns) i64(v int64) { c.next().(*array.Int64Builder).Append(v) }

func (c *columns) ptrI64(v *int64) {
	b := c.next().(*array.Int64Builder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func (c *columns) ptrBool(v *bool) {
	b := c.next().(*array.BooleanBuilder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func (c *columns) ts(t time.Time) {
	c.next().(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
}

func (c *columns) optTS(t time.Time) {
	b := c.next().(*array.TimestampBuilder)
	if t.IsZero() {
		b.AppendNull()
		return
	}
	b.Append(arrow.Timestamp(t.UnixMicro()))
}

func (c *columns) bin(v []byte) { c.next().(*array.BinaryBuilder).Append(v) }

// appendRaw appends a raw-events row in the column order of
// lakehouse.RawEventsTable.
func (c *columns) appendRaw(r row) {
	c.i = 0
	e := r.ev
	var lenOld, lenNew, revOld, revNew *int64
	if e.Length != nil {
		lenOld, lenNew = e.Length.Old, e.Length.New
	}
	if e.Revision != nil {
		revOld, revNew = e.Revision.Old, e.Revision.New
	}
	var delta *int64
	if e.Length != nil {
		d := e.LengthDelta()
		delta = &d
	}
	c.str(r.key.String())
	c.ptrI64(e.ID)
	c.str(string(e.Type))
	c.str(e.Domain())
	c.optStr(e.Wiki)
	c.ptrI32(e.Namespace)
	c.ptrStr(e.Title)
	c.optStr(e.TitleURL)
	c.optStr(e.Comment)
	c.optStr(e.ParsedComment)
	c.ptrStr(e.User)
	c.ptrBool(e.Bot)
	c.ptrBool(e.Minor)
	c.ptrBool(e.Patrolled)
	c.ptrI64(lenOld)
	c.ptrI64(lenNew)
	c.ptrI64(delta)
	c.ptrI64(revOld)
	c.ptrI64(revNew)
	c.optStr(e.ServerURL)
	c.optStr(e.ServerName)
	c.optStr(e.ServerScriptPath)
	c.optStr(e.NotifyURL)
	c.ptrI64(e.LogID)
	c.ptrStr(e.LogType)
	c.optStr(e.LogAction)
	c.ptrStr(e.LogActionComment)
	c.optStr(string(e.LogParams))
	c.optStr(e.Meta.ID)
	c.optStr(e.Meta.URI)
	c.optStr(e.Meta.RequestID)
	c.optStr(e.Meta.Stream)
	c.optStr(e.Meta.Topic)
	c.ptrI32(e.Meta.Partition)
	c.ptrI64(e.Meta.Offset)
	c.optStr(e.Meta.DT)
	c.ts(r.ts)
	c.str(r.ts.Format(time.DateOnly))
	c.i32(int32(r.ts.Hour()))
	c.bytes(r.rec.Value)
	c.str(r.rec.Topic)
	c.i32(r.rec.Partition)
	c.i64(r.rec.Offset)
	c.optStr(kafka.Header(r.rec, kafka.HeaderSource))
	c.optStr(kafka.Header(r.rec, kafka.HeaderPosition))
	c.optTS(r.ingested)
	c.ts(c.now)
	c.i32(lakehouse.BronzeSchemaVersion)
}

// appendDLQ appends a dead-letter row in the column order of
// lakehouse.DLQEventsTable.
func (c *columns) appendDLQ(r row) {
	c.i = 0
	d := r.dlq
	c.str(r.key.String())
	c.str(d.reason)
	c.optStr(d.detail)
	c.optStr(d.source)
	c.optStr(d.where)
	c.optStr(d.position)
	c.bin(r.rec.Value)
	c.str(strings.ToValidUTF8(string(r.rec.Value), string(utf8.RuneError)))
	c.i64(int64(len(r.rec.Value)))
	c.str(r.rec.Topic)
	c.i32(r.rec.Partition)
	c.i64(r.rec.Offset)
	c.ts(r.ts)
	c.str(r.part)
	c.ts(c.now)
	c.i32(lakehouse.BronzeSchemaVersion)
}

// record builds an Arrow record of rows for the table of schema.
func records(schema *arrow.Schema, rows []row, now time.Time, hints *lakehouse.SizeHints, appendRow func(*columns, row)) []arrow.RecordBatch {
	c := &columns{now: now}
	return lakehouse.RecordsByPartition(schema, rows, func(r row) string { return r.part }, hints,
		func(b *array.RecordBuilder, r row) { c.b = b; appendRow(c, r) })
}
