// Package silver is the second lakehouse stage: it cleans and enriches
// bronze events into silver.cleaned_events.
package silver

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeUser returns the canonical form of a user name as MediaWiki
// stores it, so that one editor has one name across events and sources:
//
//   - Invalid UTF-8 is replaced with U+FFFD.
//   - Bidirectional formatting marks (U+200E, U+200F, U+202A–U+202E) are
//     removed, and runs of spaces, underscores and other white space
//     (U+00A0, U+1680, U+180E, U+2000–U+200A, U+2028, U+2029, U+202F,
//     U+205F, U+3000 and the ASCII controls that Unicode calls space)
//     become one space; leading and trailing ones are trimmed. This is
//     MediaWiki's title normalisation (MediaWikiTitleCodec::splitTitleString).
//   - An IP address is put in MediaWiki's canonical form and nothing else is
//     done to it. An IPv4 address keeps its text, with leading zeros of an
//     octet removed ("010.1.2.3" → "10.1.2.3"), as IPUtils::sanitizeIP does.
//     An IPv6 address is written as IPUtils::sanitizeIP writes it, which is
//     also how it appears in the recentchange stream: eight groups,
//     upper-case hex, no leading zeros, and "::" expanded rather than used
//     ("2001:db8::1" → "2001:DB8:0:0:0:0:0:1"). An IPv4-mapped IPv6 address
//     ("::ffff:1.2.3.4") becomes the IPv4 address, as MediaWiki's
//     IPUtils::canonicalize does with a client address before it becomes an
//     editor's name.
//   - Any other name gets its first letter upper-cased like
//     Language::ucfirst on Wikimedia wikis: the simple (one-character)
//     upper-case mapping, except for the characters Wikimedia's
//     $wgOverrideUcfirstCharacters keeps, notably Georgian Mkhedruli
//     ("ლუკა" stays), "ß", the ligatures "ﬁ"…, title-case digraphs ("ǅ")
//     and the circled and Roman-numeral small letters.
//
// It does not apply Unicode normalisation (NFC; MediaWiki receives text in
// NFC already) or the Turkish and Azerbaijani dotted capital İ that those
// wikis' content languages use, because user names are global accounts.
// NormalizeUser is idempotent.
func NormalizeUser(name string) string {
	if isPlainName(name) {
		return name
	}
	s := cleanName(name)
	if ip, ok := canonicalIP(s); ok {
		return ip
	}
	return ucfirst(s)
}

// IsIP reports whether name, after the clean-up NormalizeUser does, is an IPv4
// or IPv6 address in any textual form ("1.2.3.4", "2001:db8::1",
// "2001:0DB8:0000::0001", "::ffff:1.2.3.4"). Ranges ("1.2.3.0/24"),
// zones ("fe80::1%eth0") and bracketed forms are not.
func IsIP(name string) bool {
	_, ok := canonicalIP(cleanName(name))
	return ok
}

// IsTemporaryAccount reports whether name is a Wikimedia temporary account:
// the accounts logged-out editors get since 2025, whose names start with "~"
// ("~2025-12345-67").
func IsTemporaryAccount(name string) bool {
	return strings.HasPrefix(cleanName(name), "~")
}

// IsAnonymous reports whether name belongs to a logged-out editor: an IP
// address or a temporary account.
func IsAnonymous(name string) bool {
	s := cleanName(name)
	if strings.HasPrefix(s, "~") {
		return true
	}
	_, ok := canonicalIP(s)
	return ok
}

// isPlainName reports whether name is already normal and needs no copy: the
// common case of an ASCII name with an upper-case or non-letter first byte,
// single inner spaces and no underscores, that is not an IP address needing
// canonicalisation (IPv4 addresses without leading zeros pass).
func isPlainName(name string) bool {
	if name == "" || name[0] == ' ' || name[len(name)-1] == ' ' || 'a' <= name[0] && name[0] <= 'z' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf, c < ' ', c == 0x7f, c == '_', c == ':':
			return false
		case c == ' ' && name[i-1] == ' ':
			return false
		case c == '0' && (i == 0 || name[i-1] == '.') && i+1 < len(name) && isDigit(name[i+1]):
			return false // "010.1.2.3"
		}
	}
	return true
}

// cleanName does MediaWiki's title clean-up: valid UTF-8, no bidi marks,
// white space and underscores collapsed to single spaces, trimmed.
func cleanName(name string) string {
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	if isClean(name) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	pendingSpace := false
	for _, r := range name {
		switch {
		case isBidiMark(r):
			continue
		case isTitleSpace(r):
			pendingSpace = true
			continue
		}
		if pendingSpace && b.Len() > 0 {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteRune(r)
	}
	return b.String()
}

// isClean reports whether cleanName would leave valid UTF-8 s unchanged.
func isClean(s string) bool {
	prevSpace := true // a leading space is not clean
	for _, r := range s {
		switch {
		case isBidiMark(r):
			return false
		case isTitleSpace(r):
			if r != ' ' || prevSpace {
				return false
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return !prevSpace || s == ""
}

func isBidiMark(r rune) bool {
	return r == 0x200E || r == 0x200F || 0x202A <= r && r <= 0x202E
}

// isTitleSpace reports whether MediaWiki's title normalisation turns r into a
// space; ASCII control white space (tab, newline, ...) counts too, since it
// can only be noise in a user name.
func isTitleSpace(r rune) bool {
	switch r {
	case ' ', '_', 0x00A0, 0x1680, 0x180E, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return 0x2000 <= r && r <= 0x200A || unicode.IsSpace(r)
}

// ucfirst upper-cases the first character of s as Wikimedia's
// Language::ucfirst does.
func ucfirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	var u rune
	if r < utf8.RuneSelf {
		if r < 'a' || r > 'z' {
			return s
		}
		u = r - 'a' + 'A'
	} else if o, ok := ucfirstOverrides[r]; ok {
		u = o
	} else {
		u = unicode.ToUpper(r)
	}
	if u == r {
		return s
	}
	return string(u) + s[size:]
}

// ucfirstOverrides are the characters whose first-letter upper case on
// Wikimedia wikis differs from the simple Unicode mapping: the list
// Wikimedia configures as $wgOverrideUcfirstCharacters
// (operations/mediawiki-config, wmf-config/UcfirstOverrides.php), which keeps
// the behaviour of PHP before 7.3. A character that maps to itself is kept.
var ucfirstOverrides = func() map[rune]rune {
	m := map[rune]rune{
		'ǆ': 'Ǆ', 'ǉ': 'Ǉ', 'ǌ': 'Ǌ', 'ǳ': 'Ǳ',
		'ᾳ': 'ᾼ', 'ῃ': 'ῌ', 'ῳ': 'ῼ',
	}
	keep := func(rs ...rune) {
		for _, r := range rs {
			m[r] = r
		}
	}
	keepRange := func(lo, hi rune) {
		for r := lo; r <= hi; r++ {
			m[r] = r
		}
	}
	keep('ß', 'ŉ', 'Ǆ', 'ǅ', 'Ǉ', 'ǈ', 'Ǌ', 'ǋ', 'ǰ', 'Ǳ', 'ǲ', 0x0345, 'ΐ', 'ΰ', 'և')
	keepRange(0x10D0, 0x10FA) // Georgian Mkhedruli letters ა–ჺ
	keepRange(0x10FD, 0x10FF) // ჽ ჾ ჿ
	keep('ẖ', 'ẗ', 'ẘ', 'ẙ', 'ẚ', 'ὐ', 'ὒ', 'ὔ', 'ὖ')
	for i := rune(0); i < 8; i++ {
		m[0x1F80+i] = 0x1F88 + i // ᾀ → ᾈ: title case, as PHP 7.2 did
		m[0x1F90+i] = 0x1F98 + i // ᾐ → ᾘ
		m[0x1FA0+i] = 0x1FA8 + i // ᾠ → ᾨ
	}
	keepRange(0x1F88, 0x1F8F)
	keepRange(0x1F98, 0x1F9F)
	keepRange(0x1FA8, 0x1FAF)
	keep('ᾲ', 'ᾴ', 'ᾶ', 'ᾷ', 'ᾼ', 'ῂ', 'ῄ', 'ῆ', 'ῇ', 'ῌ', 'ῒ', 0x1FD3, 'ῖ', 'ῗ',
		'ῢ', 0x1FE3, 'ῤ', 'ῦ', 'ῧ', 'ῲ', 'ῴ', 'ῶ', 'ῷ', 'ῼ')
	keepRange(0x2170, 0x217F) // small Roman numerals ⅰ–ⅿ
	keepRange(0x24D0, 0x24E9) // circled small letters ⓐ–ⓩ
	keep('ꞹ')
	keepRange(0xFB00, 0xFB06) // ligatures ﬀ–ﬆ
	keepRange(0xFB13, 0xFB17) // Armenian ligatures ﬓ–ﬗ
	keepRange(0x16E60, 0x16E7F)
	return m
}()

// canonicalIP returns MediaWiki's canonical form of s if s is an IP address.
func canonicalIP(s string) (string, bool) {
	if s == "" || len(s) > 64 {
		return "", false
	}
	if !strings.Contains(s, ":") {
		return canonicalIPv4(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || !a.Is6() {
		return "", false
	}
	if a.Is4In6() {
		return a.Unmap().String(), true
	}
	b := a.As16()
	var arr [39]byte
	buf := arr[:0]
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			buf = append(buf, ':')
		}
		buf = strconv.AppendUint(buf, uint64(b[i])<<8|uint64(b[i+1]), 16)
	}
	for i, c := range buf {
		if 'a' <= c && c <= 'f' {
			buf[i] = c - 'a' + 'A'
		}
	}
	if string(buf) == s {
		return s, true // already canonical, as the stream writes it
	}
	return string(buf), true
}

// canonicalIPv4 accepts what MediaWiki's IPUtils::isIPv4 accepts (four
// decimal octets of up to three digits, leading zeros allowed) and removes
// leading zeros, as IPUtils::sanitizeIP does.
func canonicalIPv4(s string) (string, bool) {
	var buf [15]byte
	out := buf[:0]
	octets := 0
	for part := range strings.SplitSeq(s, ".") {
		octets++
		if octets > 4 || len(part) == 0 || len(part) > 3 {
			return "", false
		}
		n := 0
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return "", false
			}
			n = n*10 + int(part[i]-'0')
		}
		if n > 255 {
			return "", false
		}
		if octets > 1 {
			out = append(out, '.')
		}
		out = strconv.AppendInt(out, int64(n), 10)
	}
	if octets != 4 {
		return "", false
	}
	if string(out) == s {
		return s, true
	}
	return string(out), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
