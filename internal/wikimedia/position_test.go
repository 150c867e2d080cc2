package wikimedia

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePosition(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	tests := []struct {
		name string
		id   string
		want []Offset
	}{
		{"real capture: eqiad timestamp first", captureID, []Offset{
			{Topic: "eqiad.mediawiki.recentchange", Timestamp: i64(1670732822001)},
			{Topic: "codfw.mediawiki.recentchange", Offset: i64(-1)},
		}},
		{"2025 order: codfw timestamp second",
			`[{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":-1},{"topic":"codfw.mediawiki.recentchange","partition":0,"timestamp":1772536525049}]`,
			[]Offset{
				{Topic: "eqiad.mediawiki.recentchange", Offset: i64(-1)},
				{Topic: "codfw.mediawiki.recentchange", Timestamp: i64(1772536525049)},
			}},
		{"offsets", `[{"topic":"eqiad.mediawiki.recentchange","partition":3,"offset":4482264387}]`,
			[]Offset{{Topic: "eqiad.mediawiki.recentchange", Partition: 3, Offset: i64(4482264387)}}},
		{"unknown fields and spaces tolerated", ` [ {"topic":"t","partition":0,"offset":1,"extra":true} ] `,
			[]Offset{{Topic: "t", Offset: i64(1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePosition(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if fmtOffsets(got) != fmtOffsets(tt.want) {
				t.Errorf("got %s, want %s", fmtOffsets(got), fmtOffsets(tt.want))
			}
			if again, err := ParsePosition(FormatPosition(got)); err != nil || fmtOffsets(again) != fmtOffsets(got) {
				t.Errorf("FormatPosition round trip: got %s, %v; want %s", fmtOffsets(again), err, fmtOffsets(got))
			}
		})
	}
}

func TestParsePositionErrors(t *testing.T) {
	tests := []struct{ id, want string }{
		{"", "empty id"},
		{"42", "want a JSON array"},
		{"[]", "empty array"},
		{`[{"partition":0,"offset":1}]`, "no topic"},
		{`[{"topic":"t","offset":1}]`, "no partition"},
		{`[{"topic":"t","partition":0}]`, "exactly one of offset and timestamp"},
		{`[{"topic":"t","partition":0,"offset":1,"timestamp":2}]`, "exactly one of offset and timestamp"},
		{`[{"topic":"t","partition":0,"offset":"1"}]`, "want an integer"},
		{`[{"topic":"t","partition":0,"offset":1}] x`, "trailing data"},
	}
	for _, tt := range tests {
		_, err := ParsePosition(tt.id)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePosition(%q): got %v, want an error saying %q", tt.id, err, tt.want)
		}
	}
}

func fmtOffsets(os []Offset) string {
	var b strings.Builder
	for _, o := range os {
		fmt.Fprintf(&b, "{%s %d", o.Topic, o.Partition)
		if o.Offset != nil {
			fmt.Fprintf(&b, " offset=%d", *o.Offset)
		}
		if o.Timestamp != nil {
			fmt.Fprintf(&b, " timestamp=%d", *o.Timestamp)
		}
		b.WriteString("}")
	}
	return b.String()
}
