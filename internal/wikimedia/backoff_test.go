package wikimedia

import (
	"testing"
	"time"
)

func TestBackoffCap(t *testing.T) {
	s, m := time.Second, time.Minute
	tests := []struct {
		attempt   int
		base, max time.Duration
		want      time.Duration
	}{
		{0, s, m, s},
		{1, s, m, 2 * s},
		{5, s, m, 32 * s},
		{6, s, m, m},
		{1000, s, m, m}, // no overflow
		{3, 40 * time.Millisecond, s, 320 * time.Millisecond},
		{0, m, m, m},
	}
	for _, tt := range tests {
		if got := backoffCap(tt.attempt, tt.base, tt.max); got != tt.want {
			t.Errorf("backoffCap(%d, %v, %v): got %v, want %v", tt.attempt, tt.base, tt.max, got, tt.want)
		}
	}
}

func TestFullJitter(t *testing.T) {
	const d = 10 * time.Millisecond
	var low, high bool
	for range 10000 {
		got := fullJitter(d)
		if got < 0 || got > d {
			t.Fatalf("got %v, want within [0, %v]", got, d)
		}
		low = low || got < d/4
		high = high || got > 3*d/4
	}
	if !low || !high {
		t.Errorf("10000 draws covered low %v, high %v; want the whole range used", low, high)
	}
	if got := fullJitter(0); got != 0 {
		t.Errorf("fullJitter(0): got %v, want 0", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 5, 3, 7, 46, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"5", 5 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-1", 0},
		{"999999999", 0}, // more than a day: ignored, the backoff applies
		{"Sat, 03 May 2025 07:46:30 GMT", 30 * time.Second},
		{"Sat, 03 May 2025 07:45:00 GMT", 0}, // in the past
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q): got %v, want %v", tt.v, got, tt.want)
		}
	}
}
