// Package recentchange is the Wikimedia mediawiki/recentchange event: its
// schema, decoding that keeps the original bytes, validation with
// machine-readable reasons, canary detection, domain filters and the
// deterministic event_id every WikiStream table is keyed on.
package recentchange

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Event is one recentchange event as EventStreams publishes it. Fields that
// validation must tell apart from their zero value (present or absent) are
// pointers. Raw holds the exact bytes the event was decoded from, and
// LogParams the exact bytes of its log_params value, which Parse slices from
// Raw rather than copying.
type Event struct {
	Schema           string          `json:"$schema"`
	Meta             Meta            `json:"meta"`
	ID               *int64          `json:"id"`
	Type             Type            `json:"type"`
	Namespace        *int64          `json:"namespace"`
	Title            *string         `json:"title"`
	TitleURL         string          `json:"title_url"`
	Comment          string          `json:"comment"`
	ParsedComment    string          `json:"parsedcomment"`
	Timestamp        *int64          `json:"timestamp"`
	User             *string         `json:"user"`
	Bot              *bool           `json:"bot"`
	NotifyURL        string          `json:"notify_url"`
	Minor            *bool           `json:"minor"`
	Patrolled        *bool           `json:"patrolled"`
	Length           *Pair           `json:"length"`
	Revision         *Pair           `json:"revision"`
	ServerURL        string          `json:"server_url"`
	ServerName       string          `json:"server_name"`
	ServerScriptPath string          `json:"server_script_path"`
	Wiki             string          `json:"wiki"`
	LogID            *int64          `json:"log_id"`
	LogType          *string         `json:"log_type"`
	LogAction        string          `json:"log_action"`
	LogParams        json.RawMessage `json:"log_params"`
	LogActionComment *string         `json:"log_action_comment"`

	// Raw is the event exactly as received. It is not part of the JSON form.
	Raw []byte `json:"-"`
}

// Meta is the EventStreams envelope of an event.
type Meta struct {
	URI       string `json:"uri"`
	RequestID string `json:"request_id"`
	ID        string `json:"id"`
	DT        string `json:"dt"`
	Domain    string `json:"domain"`
	Stream    string `json:"stream"`
	Topic     string `json:"topic"`
	Partition *int64 `json:"partition"`
	Offset    *int64 `json:"offset"`
}

// Pair is an old/new pair of lengths or revision ids; either may be absent
// (a page creation has no old revision).
type Pair struct {
	Old *int64 `json:"old"`
	New *int64 `json:"new"`
}

// CanaryDomain is the meta.domain of the synthetic events Wikimedia injects
// into every stream to prove it is alive.
const CanaryDomain = "canary"

// Domain is the wiki the event belongs to: meta.domain, or server_name for
// events that lack it.
func (e *Event) Domain() string {
	if e.Meta.Domain != "" {
		return e.Meta.Domain
	}
	return e.ServerName
}

// IsCanary reports whether the event is a Wikimedia canary event.
func (e *Event) IsCanary() bool { return e.Meta.Domain == CanaryDomain }

// EventID is the deterministic identity of the event: the lowercase hex MD5
// of domain + "|" + rc_id + "|" + timestamp (Unix seconds). Replays, retries
// and backfills produce the same id, which makes every write idempotent.
//
// A few log events carry no rc id (thanks, patrol, abuse-filter hits); for
// those the rc_id component is "meta:" followed by meta.id, the event's
// unique id in EventStreams, or "log:" followed by log_id when meta.id is
// absent too, so that distinct events still get distinct ids.
func (e *Event) EventID() string {
	var buf [128]byte
	b := append(buf[:0], e.Domain()...)
	b = append(b, '|')
	switch {
	case e.ID != nil:
		b = strconv.AppendInt(b, *e.ID, 10)
	case e.Meta.ID != "" || e.LogID == nil:
		b = append(b, "meta:"...)
		b = append(b, e.Meta.ID...)
	default:
		b = append(b, "log:"...)
		b = strconv.AppendInt(b, *e.LogID, 10)
	}
	b = append(b, '|')
	if e.Timestamp != nil {
		b = strconv.AppendInt(b, *e.Timestamp, 10)
	}
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// LengthDelta is new length minus old length, with an absent side counted as
// zero (a new page adds its whole length). Events without lengths give 0.
func (e *Event) LengthDelta() int64 {
	if e.Length == nil {
		return 0
	}
	return deref(e.Length.New) - deref(e.Length.Old)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
