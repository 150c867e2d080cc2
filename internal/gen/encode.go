package gen

import (
	"strconv"
	"unicode/utf8"
)

// The appenders here build the wire text by hand: encoding/json's
// reflection would cost more than generating the whole event.

const hexUpper = "0123456789ABCDEF"
const hexLower = "0123456789abcdef"

// appendJSONString appends s as the contents of a JSON string (without the
// quotes), escaping as EventStreams does: quotes, backslashes and control
// characters; non-ASCII text and "/" stay as they are.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// urlSafe marks the bytes MediaWiki's wfUrlencode leaves alone.
var urlSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-_.~;@$!*(),/:" {
		t[c] = true
	}
	return t
}()

// appendTitleURL appends a page title as it appears in URLs: spaces become
// underscores, everything else is percent-encoded like wfUrlencode.
func appendTitleURL[T ~string | ~[]byte](b []byte, title T) []byte {
	for i := 0; i < len(title); i++ {
		c := title[i]
		switch {
		case c == ' ':
			b = append(b, '_')
		case urlSafe[c]:
			b = append(b, c)
		default:
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&0xf])
		}
	}
	return b
}

// appendHTML appends s escaped as MediaWiki escapes text in parsedcomment.
func appendHTML[T ~string | ~[]byte](b []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&quot;"
		case '\'':
			rep = "&#039;"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendAnchor appends a section name as a link fragment: underscores for
// spaces, HTML-escaped, non-ASCII kept (as MediaWiki's HTML5 anchors are).
func appendAnchor[T ~string | ~[]byte](b []byte, s T) []byte {
	start := len(b)
	b = appendHTML(b, s)
	for i := start; i < len(b); i++ {
		if b[i] == ' ' {
			b[i] = '_'
		}
	}
	return b
}

// appendUUID appends a random (version 4) UUID made of hi and lo.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^(0xf<<12) | 0x4<<12       // version 4
	lo = lo&^(0x3<<62) | uint64(2)<<62 // RFC 4122 variant
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	for i, c := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexLower[c>>4], hexLower[c&0xf])
	}
	return b
}

// appendDTMillis appends a Unix time in milliseconds as
// 2006-01-02T15:04:05.000Z, without going through time.Time.Format.
func appendDTMillis(b []byte, ms int64) []byte {
	days := floorDiv(ms, 86400000)
	rem := ms - days*86400000
	y, m, d := civil(days)
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, m, 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, rem/3600000, 2)
	b = append(b, ':')
	b = appendPad(b, rem/60000%60, 2)
	b = append(b, ':')
	b = appendPad(b, rem/1000%60, 2)
	b = append(b, '.')
	b = appendPad(b, rem%1000, 3)
	return append(b, 'Z')
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(z int64) (year, month, day int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func appendPad(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendDigits appends n as exactly width decimal digits (n >= 0).
func appendDigits(b []byte, n uint64, width int) []byte {
	var tmp [20]byte
	for i := width - 1; i >= 0; i-- {
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[:width]...)
}

// validUTF8 reports whether b is valid UTF-8; used by tests.
func validUTF8(b []byte) bool { return utf8.Valid(b) }
