package silver

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeUser(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Names as the stream carries them stay as they are.
		{"plain", "Cewbot", "Cewbot"},
		{"inner space", "Andrey Bondar", "Andrey Bondar"},
		{"parentheses", "(:Julien:)", "(:Julien:)"},
		{"temporary account", "~2026-12881-95", "~2026-12881-95"},
		{"Cyrillic", "Андрей Бондарь", "Андрей Бондарь"},
		{"Japanese", "エリック・キィ", "エリック・キィ"},
		{"Arabic", "أحمد الغالبي", "أحمد الغالبي"},
		{"Hebrew", "פיטר פן", "פיטר פן"},
		{"Armenian", "ՀայկուհիՄ", "ՀայկուհիՄ"},
		// Title clean-up.
		{"underscores", "Some_User_name", "Some User name"},
		{"trim", "  Foo  ", "Foo"},
		{"trim underscores", "__Foo__", "Foo"},
		{"collapse", "Foo   _ Bar", "Foo Bar"},
		{"tab and newline", "Foo\t\nBar\n", "Foo Bar"},
		{"no-break and ideographic space", "Foo\u00a0\u3000Bar", "Foo Bar"},
		{"bidi marks", "\u200eFoo\u200f Bar\u202a", "Foo Bar"},
		{"bidi mark between spaces", "Foo \u200e Bar", "Foo Bar"},
		{"only white space", " _ \u3000", ""},
		{"empty", "", ""},
		{"invalid UTF-8", "a\xffb", "A\uFFFDb"},
		// First letter, ASCII and Unicode.
		{"lower ASCII", "example", "Example"},
		{"only first letter", "eXAMPLE user", "EXAMPLE user"},
		{"a-umlaut", "ärger", "Ärger"},
		{"a-ring", "århus", "Århus"},
		{"e-acute after trim", "  élodie_", "Élodie"},
		{"Cyrillic lower", "иван", "Иван"},
		{"Greek lower", "δώρα", "Δώρα"},
		{"Armenian lower", "հայկ", "Հայկ"},
		{"dotless i", "ırmak", "Irmak"},
		{"dotted i is ASCII", "istanbul", "Istanbul"},
		{"digit first", "1lucky", "1lucky"},
		// Wikimedia's ucfirst overrides.
		{"Georgian Mkhedruli stays", "ლუკააა", "ლუკააა"},
		{"sharp s stays", "ßtraße", "ßtraße"},
		{"ligature stays", "ﬁsh", "ﬁsh"},
		{"dz digraph to upper", "ǆemal", "Ǆemal"},
		{"Dz title case stays", "ǅemal", "ǅemal"},
		{"Greek ypogegrammeni title case", "ᾳ", "ᾼ"},
		{"small Roman numeral stays", "ⅳ", "ⅳ"},
		{"circled letter stays", "ⓐbc", "ⓐbc"},
		// IPv4: unchanged, leading zeros removed as IPUtils::sanitizeIP does.
		{"IPv4", "145.140.1.15", "145.140.1.15"},
		{"IPv4 trimmed", " 145.140.1.15_", "145.140.1.15"},
		{"IPv4 leading zeros", "010.001.000.009", "10.1.0.9"},
		{"not IPv4: octet too large", "256.1.1.1", "256.1.1.1"},
		{"not IPv4: three octets", "1.2.3", "1.2.3"},
		// IPv6: eight groups, upper-case hex, no leading zeros, no "::".
		{"IPv6 as recorded", "2600:4040:5C6B:F400:A87D:61A8:DDB5:FFAE", "2600:4040:5C6B:F400:A87D:61A8:DDB5:FFAE"},
		{"IPv6 recorded with zero groups", "2002:742C:A9CB:0:0:0:742C:A9CB", "2002:742C:A9CB:0:0:0:742C:A9CB"},
		{"IPv6 lower-case compressed", "2001:db8::1", "2001:DB8:0:0:0:0:0:1"},
		{"IPv6 leading zeros", "2001:0DB8:0000::0001", "2001:DB8:0:0:0:0:0:1"},
		{"IPv6 lower-case full", "2a01:cb0d:1b:200:6571:ced4:999d:4bc6", "2A01:CB0D:1B:200:6571:CED4:999D:4BC6"},
		{"IPv6 trailing ::", "2001:db8::", "2001:DB8:0:0:0:0:0:0"},
		{"IPv6 leading ::", "::1", "0:0:0:0:0:0:0:1"},
		{"IPv6 unspecified", "::", "0:0:0:0:0:0:0:0"},
		{"IPv6 embedded IPv4", "64:ff9b::1.2.3.4", "64:FF9B:0:0:0:0:102:304"},
		{"IPv4-mapped IPv6", "::ffff:1.2.3.4", "1.2.3.4"},
		{"IPv4-mapped IPv6 in hex", "::FFFF:0102:0304", "1.2.3.4"},
		{"IPv6 with zone is a name", "fe80::1%eth0", "Fe80::1%eth0"},
		{"IPv6 range is a name", "2001:db8::/32", "2001:db8::/32"},
		{"not IPv6: too many groups", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NormalizeUser(tt.in)
			if got != tt.want {
				t.Errorf("NormalizeUser(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := NormalizeUser(got); again != got {
				t.Errorf("NormalizeUser(%q) = %q, not idempotent after %q", got, again, got)
			}
		})
	}
}

func TestIsIP(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"145.140.1.15", true},
		{"0.0.0.0", true},
		{"255.255.255.255", true},
		{"010.1.2.3", true}, // MediaWiki's IPUtils::isIPv4 allows leading zeros
		{" 1.2.3.4 ", true},
		{"2001:db8::1", true},
		{"2001:0DB8:0000::0001", true},
		{"2002:742C:A9CB:0:0:0:742C:A9CB", true},
		{"::ffff:1.2.3.4", true},
		{"::1", true},
		{"::", true},
		{"_2001:db8::1_", true},
		{"1.2.3", false},
		{"1.2.3.4.5", false},
		{"256.1.1.1", false},
		{"1.2.3.4/24", false},
		{"1..2.3", false},
		{"+1.2.3.4", false},
		{"1.2.3.0004", false},
		{"2001:db8::/32", false},
		{"fe80::1%eth0", false},
		{"[2001:db8::1]", false},
		{"2001:db8:::1", false},
		{"Cewbot", false},
		{"~2025-12345-67", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsIP(tt.in); got != tt.want {
			t.Errorf("IsIP(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestAnonymous(t *testing.T) {
	tests := []struct {
		in              string
		temporary, anon bool
	}{
		{"~2025-12345-67", true, true},
		{"~2026-81302-9", true, true},
		{" ~2026-12881-95", true, true},
		{"\u200e~2026-12881-95", true, true},
		{"145.140.1.15", false, true},
		{"2600:4040:5C6B:F400:A87D:61A8:DDB5:FFAE", false, true},
		{"2001:db8::1", false, true},
		{"Cewbot", false, false},
		{"Tilde~User", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := IsTemporaryAccount(tt.in); got != tt.temporary {
			t.Errorf("IsTemporaryAccount(%q) = %v, want %v", tt.in, got, tt.temporary)
		}
		if got := IsAnonymous(tt.in); got != tt.anon {
			t.Errorf("IsAnonymous(%q) = %v, want %v", tt.in, got, tt.anon)
		}
	}
}

// TestUcfirstOverrides checks that the whole Georgian Mkhedruli range is
// kept (Go's unicode package maps it to Mtavruli) and that the override table
// was not truncated.
func TestUcfirstOverrides(t *testing.T) {
	for r := rune(0x10D0); r <= 0x10FF; r++ {
		if r == 0x10FB || r == 0x10FC { // ჻ and ჼ are not letters with a case
			continue
		}
		s := string(r) + "x"
		if got := NormalizeUser(s); got != s {
			t.Errorf("NormalizeUser(%q) = %q, want Georgian kept", s, got)
		}
	}
	if n := len(ucfirstOverrides); n < 200 {
		t.Errorf("ucfirstOverrides has %d entries, want the whole Wikimedia list (>= 200)", n)
	}
}

func FuzzNormalizeUser(f *testing.F) {
	for _, s := range []string{
		"Cewbot", "ärger", "ლუკა", "2001:db8::1", "::ffff:1.2.3.4", "010.1.2.3", "~2025-1-2",
		" _Foo__Bar_ ", "\u200e", "a\xffb", "\xe2\u200e\x80\x8e", "ǅ", "ᾀ", "\u0345x", "ⓐ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeUser(s)
		if again := NormalizeUser(n); again != n {
			t.Fatalf("NormalizeUser not idempotent: %q → %q → %q", s, n, again)
		}
		if !utf8.ValidString(n) {
			t.Fatalf("NormalizeUser(%q) = %q, invalid UTF-8", s, n)
		}
		if n != strings.TrimSpace(n) || strings.Contains(n, "  ") || strings.Contains(n, "_") {
			t.Fatalf("NormalizeUser(%q) = %q, white space or underscore left", s, n)
		}
		if IsIP(s) != IsIP(n) || IsTemporaryAccount(s) != IsTemporaryAccount(n) || IsAnonymous(s) != IsAnonymous(n) {
			t.Fatalf("classification of %q and its normal form %q differ", s, n)
		}
	})
}

func BenchmarkNormalizeUser(b *testing.B) {
	names := []string{"Cewbot", "Andrey Bondar", "145.140.1.15", "2600:4040:5C6B:F400:A87D:61A8:DDB5:FFAE", "ärger", "~2026-12881-95"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = NormalizeUser(names[i%len(names)])
	}
}
