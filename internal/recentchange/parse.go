package recentchange

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Parse decodes raw into an Event that keeps raw as its Raw bytes. It checks
// only that raw is JSON of the right shape (ReasonNotJSON, ReasonWrongType,
// ReasonUnknownType); Validate checks the rest. Even when Parse fails with
// ReasonWrongType or ReasonUnknownType the returned event holds every field
// that did decode, so callers can still read its domain.
//
// Parse gives exactly the results encoding/json.Unmarshal gives for an
// Event (a differential fuzz test holds it to that): object keys match
// field names case-insensitively, the last of duplicate keys wins, invalid
// UTF-8 in strings becomes U+FFFD, null leaves non-pointer fields alone, and
// a number that is not an int64 is the wrong type for an integer field. It
// is a single pass over raw specialised to the schema, several times faster
// than encoding/json, and costs one allocation for the event and its
// pointer fields, one for the text of all its unescaped strings and one for
// each string that holds escapes. LogParams and Raw share raw's memory.
func Parse(raw []byte) (*Event, error) { return parse(raw, false) }

// ParseShared is Parse without the copy of raw's text: the event's plain
// strings are slices of raw itself, so raw must never change while the
// event or any string taken from it is in use. Bronze decodes each Kafka
// record value, which nothing writes to, and saves a copy of every event
// (1.2 GB of allocation per million events).
func ParseShared(raw []byte) (*Event, error) { return parse(raw, true) }

func parse(raw []byte, shared bool) (*Event, error) {
	data := bytes.TrimSpace(raw)
	if len(data) == 0 {
		return nil, &Invalid{Reason: ReasonNotJSON, Detail: "empty event"}
	}
	if data[0] != '{' {
		return nil, &Invalid{Reason: ReasonNotJSON, Detail: "not a JSON object"}
	}
	d := decoder{data: data, ev: new(eventBlock), shared: shared}
	d.ev.Raw = raw
	if err := d.event(); err != nil {
		return nil, err
	}
	if d.err != nil {
		return &d.ev.Event, d.err
	}
	return &d.ev.Event, nil
}

// maxDepth is how deeply encoding/json lets arrays and objects nest; the
// top-level object is depth 1.
const maxDepth = 10000

// eventBlock allocates an Event together with the values its pointer fields
// point to, so that decoding an event is one allocation, not one per field.
type eventBlock struct {
	Event
	id, namespace, timestamp, logID int64
	partition, offset               int64
	title, user                     string
	logType, logActionComment       string
	bot, minor, patrolled           bool
	length, revision                pairBlock
}

// pairBlock is the storage of one Pair and its two numbers.
type pairBlock struct {
	Pair
	old, new int64
}

// decoder reads one event. Syntax errors end decoding at once; type errors
// are kept in err, the first one winning, and decoding goes on, as
// encoding/json does. An error in the type field is the exception: it
// replaces any earlier one and freezes the event, because encoding/json
// stops decoding when Type.UnmarshalJSON fails.
type decoder struct {
	data   []byte // the event without surrounding white space
	pos    int    // the next byte to read
	ev     *eventBlock
	err    *Invalid // the type error Parse will report, if any
	frozen bool     // whether further members are only checked, not stored
	shared bool     // whether plain strings may point into data (ParseShared)

	text    string // data as a string, made on first use; plain strings are slices of it
	depth   int    // the nesting depth a value at d.pos would open
	keyBuf  []byte // the last unescaped object key
	foldBuf []byte // the last case-folded object key
	scratch []byte // a string value being unescaped
}

// event reads the top-level object and checks that nothing but white space
// follows it.
func (d *decoder) event() error {
	d.pos++ // the '{' that Parse checked
	d.depth = 2
	e := &d.ev.Event
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if d.frozen {
			_, err = d.skipValue()
		} else {
			err = d.eventMember(e, key)
		}
		if err != nil {
			return err
		}
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.syntaxError("after top-level value")
	}
	return nil
}

// eventMember decodes the value of the top-level member named key.
func (d *decoder) eventMember(e *Event, key []byte) error {
	b := d.ev
	switch string(key) {
	case "$schema":
		return d.stringValue(&e.Schema, "$schema")
	case "meta":
		return d.metaValue(&e.Meta)
	case "id":
		return d.intValue(&e.ID, &b.id, "id")
	case "type":
		return d.typeValue(&e.Type)
	case "namespace":
		return d.intValue(&e.Namespace, &b.namespace, "namespace")
	case "title":
		return d.stringPtrValue(&e.Title, &b.title, "title")
	case "title_url":
		return d.stringValue(&e.TitleURL, "title_url")
	case "comment":
		return d.stringValue(&e.Comment, "comment")
	case "parsedcomment":
		return d.stringValue(&e.ParsedComment, "parsedcomment")
	case "timestamp":
		return d.intValue(&e.Timestamp, &b.timestamp, "timestamp")
	case "user":
		return d.stringPtrValue(&e.User, &b.user, "user")
	case "bot":
		return d.boolValue(&e.Bot, &b.bot, "bot")
	case "notify_url":
		return d.stringValue(&e.NotifyURL, "notify_url")
	case "minor":
		return d.boolValue(&e.Minor, &b.minor, "minor")
	case "patrolled":
		return d.boolValue(&e.Patrolled, &b.patrolled, "patrolled")
	case "length":
		return d.pairValue(&e.Length, &b.length, &lengthPaths)
	case "revision":
		return d.pairValue(&e.Revision, &b.revision, &revisionPaths)
	case "server_url":
		return d.stringValue(&e.ServerURL, "server_url")
	case "server_name":
		return d.stringValue(&e.ServerName, "server_name")
	case "server_script_path":
		return d.stringValue(&e.ServerScriptPath, "server_script_path")
	case "wiki":
		return d.stringValue(&e.Wiki, "wiki")
	case "log_id":
		return d.intValue(&e.LogID, &b.logID, "log_id")
	case "log_type":
		return d.stringPtrValue(&e.LogType, &b.logType, "log_type")
	case "log_action":
		return d.stringValue(&e.LogAction, "log_action")
	case "log_params":
		start := d.pos
		if _, err := d.skipValue(); err != nil {
			return err
		}
		e.LogParams = d.data[start:d.pos:d.pos]
		return nil
	case "log_action_comment":
		return d.stringPtrValue(&e.LogActionComment, &b.logActionComment, "log_action_comment")
	}
	if folded, ok := d.foldKey(key); ok {
		return d.eventMember(e, folded)
	}
	_, err := d.skipValue()
	return err
}

// metaValue decodes the value of "meta" into m: an object's members are
// merged into it, null leaves it alone.
func (d *decoder) metaValue(m *Meta) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '{':
		d.pos++
	default:
		return d.wrongValue("meta", "object")
	}
	d.depth++
	defer func() { d.depth-- }()
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil || !ok {
			return err
		}
		if err := d.metaMember(m, d.ev, key); err != nil {
			return err
		}
	}
}

// metaMember decodes the value of the meta member named key.
func (d *decoder) metaMember(m *Meta, b *eventBlock, key []byte) error {
	switch string(key) {
	case "uri":
		return d.stringValue(&m.URI, "meta.uri")
	case "request_id":
		return d.stringValue(&m.RequestID, "meta.request_id")
	case "id":
		return d.stringValue(&m.ID, "meta.id")
	case "dt":
		return d.stringValue(&m.DT, "meta.dt")
	case "domain":
		return d.stringValue(&m.Domain, "meta.domain")
	case "stream":
		return d.stringValue(&m.Stream, "meta.stream")
	case "topic":
		return d.stringValue(&m.Topic, "meta.topic")
	case "partition":
		return d.intValue(&m.Partition, &b.partition, "meta.partition")
	case "offset":
		return d.intValue(&m.Offset, &b.offset, "meta.offset")
	}
	if folded, ok := d.foldKey(key); ok {
		return d.metaMember(m, b, folded)
	}
	_, err := d.skipValue()
	return err
}

// pairPaths are the paths of a Pair field and its members.
type pairPaths struct{ pair, old, new string }

var (
	lengthPaths   = pairPaths{"length", "length.old", "length.new"}
	revisionPaths = pairPaths{"revision", "revision.old", "revision.new"}
)

// pairValue decodes the value of "length" or "revision" into *p, using slot
// when *p is nil: an object's members are merged into *p, null sets it to
// nil.
func (d *decoder) pairValue(p **Pair, slot *pairBlock, path *pairPaths) error {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.literal("null")
	case '{':
		d.pos++
	default:
		use(p, &slot.Pair)
		return d.wrongValue(path.pair, "object")
	}
	pair := use(p, &slot.Pair)
	d.depth++
	defer func() { d.depth-- }()
	for first := true; ; first = false {
		key, ok, err := d.member(first)
		if err != nil || !ok {
			return err
		}
		if err := d.pairMember(pair, slot, key, path); err != nil {
			return err
		}
	}
}

// pairMember decodes the value of the member named key of a pair.
func (d *decoder) pairMember(p *Pair, slot *pairBlock, key []byte, path *pairPaths) error {
	switch string(key) {
	case "old":
		return d.intValue(&p.Old, &slot.old, path.old)
	case "new":
		return d.intValue(&p.New, &slot.new, path.new)
	}
	if folded, ok := d.foldKey(key); ok {
		return d.pairMember(p, slot, folded, path)
	}
	_, err := d.skipValue()
	return err
}

// use points *p at slot, zeroed, unless it already points somewhere, and
// returns *p: encoding/json fills an existing pointer's target in place and
// allocates a new zero value only for a nil pointer.
func use[T any](p **T, slot *T) *T {
	if *p == nil {
		var zero T
		*slot = zero
		*p = slot
	}
	return *p
}

// stringValue decodes a string into *s; null leaves *s alone.
func (d *decoder) stringValue(s *string, path string) error {
	switch d.peek() {
	case '"':
		v, err := d.string()
		*s = v
		return err
	case 'n':
		return d.literal("null")
	}
	return d.wrongValue(path, "string")
}

// stringPtrValue decodes a string into **p, using slot when *p is nil; null
// sets *p to nil.
func (d *decoder) stringPtrValue(p **string, slot *string, path string) error {
	if d.peek() == 'n' {
		*p = nil
		return d.literal("null")
	}
	s := use(p, slot)
	if d.peek() == '"' {
		v, err := d.string()
		*s = v
		return err
	}
	return d.wrongValue(path, "string")
}

// boolValue decodes true or false into **p, using slot when *p is nil; null
// sets *p to nil.
func (d *decoder) boolValue(p **bool, slot *bool, path string) error {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.literal("null")
	case 't':
		*use(p, slot) = true
		return d.literal("true")
	case 'f':
		*use(p, slot) = false
		return d.literal("false")
	}
	use(p, slot)
	return d.wrongValue(path, "boolean")
}

// intValue decodes an integer into **p, using slot when *p is nil; null
// sets *p to nil. A number with a fraction or an exponent, or out of the
// int64 range, is the wrong type, as it is for encoding/json.
func (d *decoder) intValue(p **int64, slot *int64, path string) error {
	switch c := d.peek(); {
	case c == 'n':
		*p = nil
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		lit, err := d.number()
		if err != nil {
			return err
		}
		n := use(p, slot)
		if v, ok := parseInt(lit); ok {
			*n = v
		} else {
			d.wrongType(path, "number "+string(lit), "integer")
		}
		return nil
	}
	use(p, slot)
	return d.wrongValue(path, "integer")
}

// typeValue decodes the type, a name or a numeric RC_* constant, the way
// Type.UnmarshalJSON does. Any error in it freezes the event.
func (d *decoder) typeValue(t *Type) error {
	switch c := d.peek(); {
	case c == 'n':
		return d.literal("null")
	case c == '"':
		s, err := d.string()
		if err != nil {
			return err
		}
		if name, ok := typeNamed(s); ok {
			*t = name
		} else {
			d.freeze(&Invalid{Reason: ReasonUnknownType, Field: "type",
				Detail: (&unknownTypeError{value: strconv.Quote(s)}).Error()})
		}
		return nil
	case c == '-' || '0' <= c && c <= '9':
		lit, err := d.number()
		if err != nil {
			return err
		}
		n, ok := parseInt(lit)
		if !ok {
			d.freeze(typeNotString())
		} else if name, ok := numericTypes[n]; ok {
			*t = name
		} else {
			d.freeze(&Invalid{Reason: ReasonUnknownType, Field: "type",
				Detail: (&unknownTypeError{value: string(lit)}).Error()})
		}
		return nil
	}
	if _, err := d.skipValue(); err != nil {
		return err
	}
	d.freeze(typeNotString())
	return nil
}

// typeNotString is the error Type.UnmarshalJSON reports, through
// encoding/json, for a type that is neither a string nor an integer.
func typeNotString() *Invalid {
	return &Invalid{Reason: ReasonWrongType, Field: "type", Detail: "got JSON non-string, want string"}
}

// wrongValue skips a value that cannot go into the field at path and
// records the type error.
func (d *decoder) wrongValue(path, want string) error {
	got, err := d.skipValue()
	if err != nil {
		return err
	}
	d.wrongType(path, got, want)
	return nil
}

// wrongType records a type error unless an earlier one is already kept.
func (d *decoder) wrongType(path, got, want string) {
	if d.err == nil {
		d.err = &Invalid{Reason: ReasonWrongType, Field: path, Detail: "got JSON " + got + ", want " + want}
	}
}

// freeze records err in place of any earlier type error and stops storing
// values.
func (d *decoder) freeze(err *Invalid) {
	d.err = err
	d.frozen = true
}

// The scanner. Each method starts at d.pos and leaves d.pos after what it
// read.

// peek returns the next byte, or 0 at the end of the input.
func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// skipSpace skips JSON white space.
func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// member moves to the next member of the object being read, first telling
// whether it is the first. It returns the member's unescaped key, valid
// until the next call, with d.pos at the member's value; ok is false after
// the object's closing '}'.
func (d *decoder) member(first bool) (key []byte, ok bool, err error) {
	d.skipSpace()
	switch c := d.peek(); {
	case c == '}':
		d.pos++
		return nil, false, nil
	case first && c == '"':
	case !first && c == ',':
		d.pos++
		d.skipSpace()
		if d.peek() != '"' {
			return nil, false, d.syntaxError("looking for beginning of object key string")
		}
	case first:
		return nil, false, d.syntaxError("looking for beginning of object key string")
	default:
		return nil, false, d.syntaxError("after object key:value pair")
	}
	start, end, plain, err := d.scanString()
	if err != nil {
		return nil, false, err
	}
	key = d.data[start:end]
	if !plain {
		d.keyBuf = unquote(d.keyBuf[:0], key)
		key = d.keyBuf
	}
	d.skipSpace()
	if d.peek() != ':' {
		return nil, false, d.syntaxError("after object key")
	}
	d.pos++
	d.skipSpace()
	return key, true, nil
}

// foldKey returns key case-folded the way encoding/json matches keys to
// field names, and whether that changed it. encoding/json compares keys
// folded to upper case, each rune mapped to the smallest rune of its
// case-folding orbit. All field names are lower-case ASCII, so folding to
// lower case instead matches the same keys: "TYPE" becomes "type", and "ſ"
// (U+017F) and the Kelvin sign become "s" and "k". A folded key folds to
// itself, so a member function retries a key at most once.
func (d *decoder) foldKey(key []byte) ([]byte, bool) {
	changed := false
	for i := 0; i < len(key) && !changed; {
		if c := key[i]; c < utf8.RuneSelf {
			changed = 'A' <= c && c <= 'Z'
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		changed = foldRune(r) < utf8.RuneSelf
		i += n
	}
	if !changed {
		return nil, false
	}
	folded := d.foldBuf[:0]
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			folded = append(folded, byte(unicode.ToLower(rune(c))))
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		if f := foldRune(r); f < utf8.RuneSelf {
			r = unicode.ToLower(f)
		}
		folded = utf8.AppendRune(folded, r)
		i += n
	}
	d.foldBuf = folded
	return folded, true
}

// foldRune returns the smallest rune of r's case-folding orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// string reads a string value.
func (d *decoder) string() (string, error) {
	start, end, plain, err := d.scanString()
	if err != nil {
		return "", err
	}
	if plain {
		if d.text == "" {
			if d.shared {
				d.text = unsafe.String(unsafe.SliceData(d.data), len(d.data))
			} else {
				d.text = string(d.data)
			}
		}
		return d.text[start:end], nil
	}
	d.scratch = unquote(d.scratch[:0], d.data[start:end])
	return string(d.scratch), nil
}

// plainByte reports which bytes stand for themselves inside a string.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString checks the string at d.pos and returns the bounds of its
// contents, and whether they are plain: free of escapes and valid UTF-8,
// so that they are the string's value as they are.
func (d *decoder) scanString() (start, end int, plain bool, err error) {
	data := d.data
	i := d.pos + 1
	start = i
	plain = true
	ascii := true
	for {
		for i < len(data) && plainByte[data[i]] {
			i++
		}
		if i >= len(data) {
			d.pos = i
			return 0, 0, false, d.syntaxError("in string literal")
		}
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			if !ascii && plain {
				plain = utf8.Valid(data[start:i])
			}
			return start, i, plain, nil
		case c == '\\':
			plain = false
			if n := escapeLen(data[i:]); n > 0 {
				i += n
				continue
			}
			d.pos = i + 1
			return 0, 0, false, d.syntaxError("in string escape code")
		case c < 0x20:
			d.pos = i
			return 0, 0, false, d.syntaxError("in string literal")
		default:
			ascii = false
			i++
		}
	}
}

// escapeLen returns the length of the valid escape sequence that b starts
// with, or 0.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if hex4(b[1:]) >= 0 {
			return 6
		}
	}
	return 0
}

// hex4 decodes the four hex digits after the 'u' that b starts with, or
// returns -1.
func hex4(b []byte) rune {
	if len(b) < 5 || b[0] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[1:5] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote appends the value of the checked string contents s to dst, the
// way encoding/json does: a \u escape of half a surrogate pair and every
// byte that is not valid UTF-8 become U+FFFD.
func unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+1:])
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(s) && s[i] == '\\' {
						r2 = hex4(s[i+1:])
					}
					if pair := utf16.DecodeRune(r, r2); pair != unicode.ReplacementChar {
						r = pair
						i += 6
					} else {
						r = unicode.ReplacementChar
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		}
	}
	return dst
}

// number reads a number and returns its text.
func (d *decoder) number() ([]byte, error) {
	data, start := d.data, d.pos
	i := start
	digits := func() bool {
		j := i
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		d.pos = i
		return nil, d.syntaxError("in numeric literal")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			d.pos = i
			return nil, d.syntaxError("after decimal point in numeric literal")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			d.pos = i
			return nil, d.syntaxError("in exponent of numeric literal")
		}
	}
	d.pos = i
	return data[start:i], nil
}

// parseInt returns the value of a JSON number if it is an integer in the
// int64 range, as strconv.ParseInt(lit, 10, 64) would.
func parseInt(lit []byte) (int64, bool) {
	neg := len(lit) > 0 && lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	if len(lit) == 0 {
		return 0, false
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit = 1 << 63
	}
	var n uint64
	for _, c := range lit {
		if c < '0' || c > '9' {
			return 0, false
		}
		digit := uint64(c - '0')
		if n > (limit-digit)/10 {
			return 0, false
		}
		n = n*10 + digit
	}
	if neg {
		return int64(-n), true
	}
	return int64(n), true
}

// literal reads the literal word (true, false or null).
func (d *decoder) literal(word string) error {
	for i := range len(word) {
		if d.peek() != word[i] {
			return d.syntaxError("in literal " + word)
		}
		d.pos++
	}
	return nil
}

// skipValue checks the value at d.pos and returns the name encoding/json
// gives its kind in type errors.
func (d *decoder) skipValue() (string, error) {
	switch c := d.peek(); {
	case c == '"':
		_, _, _, err := d.scanString()
		return "string", err
	case c == '-' || '0' <= c && c <= '9':
		_, err := d.number()
		return "number", err
	case c == 't':
		return "bool", d.literal("true")
	case c == 'f':
		return "bool", d.literal("false")
	case c == 'n':
		return "null", d.literal("null")
	case c == '{':
		return "object", d.skipContainer(d.skipMember)
	case c == '[':
		return "array", d.skipContainer(d.skipElement)
	}
	return "", d.syntaxError("looking for beginning of value")
}

// skipContainer checks the array or object at d.pos, reading its elements
// with next until it reports the end.
func (d *decoder) skipContainer(next func(first bool) (bool, error)) error {
	if d.depth > maxDepth {
		return d.syntaxError("exceeding the maximum nesting depth")
	}
	d.pos++
	d.depth++
	defer func() { d.depth-- }()
	for first := true; ; first = false {
		more, err := next(first)
		if err != nil || !more {
			return err
		}
		if _, err := d.skipValue(); err != nil {
			return err
		}
	}
}

// skipMember moves to the next member's value of the object being skipped,
// like member; it reports false at the object's end.
func (d *decoder) skipMember(first bool) (bool, error) {
	_, ok, err := d.member(first)
	return ok, err
}

// skipElement moves to the next element of the array being skipped; it
// reports false at the array's end.
func (d *decoder) skipElement(first bool) (bool, error) {
	d.skipSpace()
	switch c := d.peek(); {
	case c == ']':
		d.pos++
		return false, nil
	case first:
		return true, nil
	case c == ',':
		d.pos++
		d.skipSpace()
		return true, nil
	}
	return false, d.syntaxError("after array element")
}

// syntaxError describes the byte at d.pos, which does not fit where it is.
func (d *decoder) syntaxError(context string) error {
	if d.pos >= len(d.data) {
		return &Invalid{Reason: ReasonNotJSON, Detail: "unexpected end of JSON input"}
	}
	return &Invalid{Reason: ReasonNotJSON,
		Detail: fmt.Sprintf("invalid character %q at byte %d %s", d.data[d.pos], d.pos, context)}
}
