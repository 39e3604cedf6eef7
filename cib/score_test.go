package cib

import (
	"math"
	"strconv"
	"testing"
)

func TestParseScore(t *testing.T) {
	ok := map[string]int{
		"0":                    0,
		"10":                   10,
		"-10":                  -10,
		"+7":                   7,
		" 42 ":                 42,
		"INFINITY":             Infinity,
		"+INFINITY":            Infinity,
		"-INFINITY":            -Infinity,
		"infinity":             Infinity,
		"-infinity":            -Infinity,
		"999999":               999999,
		"-999999":              -999999,
		"1000000":              Infinity,
		"1000001":              Infinity,
		"-1000001":             -Infinity,
		"99999999999999999":    Infinity,
		"-99999999999999999":   -Infinity,
		"9223372036854775807":  Infinity,
		"-9223372036854775808": -Infinity,
		"1.5":                  1, // integer prefix, like strtol
		"200abc":               200,
		"-3x":                  -3,
		// Beyond int64: strtoll clips to LLONG_MAX/MIN, which saturates.
		"123456789012345678901":  Infinity,
		"-123456789012345678901": -Infinity,
	}
	for in, want := range ok {
		got, err := ParseScore(in)
		if err != nil || got != want {
			t.Errorf("ParseScore(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   ", "abc", "-", "+", "INF", "--1", "x10", "+-INFINITY"} {
		if got, err := ParseScore(in); err == nil {
			t.Errorf("ParseScore(%q) = %d, want an error", in, got)
		}
	}
}

func TestScoreLenient(t *testing.T) {
	for in, want := range map[string]int{"": 0, "junk": 0, "-INFINITY": -Infinity, "5": 5, "2000000": Infinity} {
		if got := Score(in); got != want {
			t.Errorf("Score(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestAddScores(t *testing.T) {
	cases := []struct{ a, b, want int }{
		{0, 0, 0},
		{1, 2, 3},
		{-5, 3, -2},
		{Infinity, 5, Infinity},
		{5, Infinity, Infinity},
		{-Infinity, 5, -Infinity},
		{Infinity, -Infinity, -Infinity}, // -INFINITY wins
		{-Infinity, Infinity, -Infinity},
		{Infinity, Infinity, Infinity},
		{-Infinity, -Infinity, -Infinity},
		{999999, 1, Infinity}, // saturates at INFINITY
		{600000, 600000, Infinity},
		{-600000, -600000, -Infinity},
		{-999999, -1, -Infinity},
		{999999, -1, 999998},
		{2 * Infinity, -1, Infinity}, // out-of-range inputs count as INFINITY
		{-2 * Infinity, Infinity, -Infinity},
		{math.MaxInt32, math.MaxInt32, Infinity},
	}
	for _, c := range cases {
		if got := AddScores(c.a, c.b); got != c.want {
			t.Errorf("AddScores(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	// Commutative and always within bounds.
	vals := []int{-2 * Infinity, -Infinity, -999999, -1, 0, 1, 500000, 999999, Infinity, 3 * Infinity}
	for _, a := range vals {
		for _, b := range vals {
			s := AddScores(a, b)
			if s != AddScores(b, a) {
				t.Errorf("AddScores(%d, %d) not commutative", a, b)
			}
			if s < -Infinity || s > Infinity {
				t.Errorf("AddScores(%d, %d) = %d out of bounds", a, b, s)
			}
		}
	}
}

func TestScoreString(t *testing.T) {
	for v, want := range map[int]string{0: "0", 5: "5", -5: "-5", Infinity: "INFINITY", -Infinity: "-INFINITY", 2 * Infinity: "INFINITY", -3 * Infinity: "-INFINITY", 999999: "999999"} {
		if got := ScoreString(v); got != want {
			t.Errorf("ScoreString(%d) = %q, want %q", v, got, want)
		}
	}
	// ParseScore(ScoreString(v)) is the identity on valid scores.
	for _, v := range []int{-Infinity, -12, 0, 77, Infinity} {
		if got, err := ParseScore(ScoreString(v)); err != nil || got != v {
			t.Errorf("round trip of %d gave %d, %v", v, got, err)
		}
	}
}

func TestParseIntervalMS(t *testing.T) {
	ok := map[string]int64{
		"":          0,
		"0":         0,
		"10":        10000,
		"10s":       10000,
		"10sec":     10000,
		"10 s":      10000,
		" 15 ":      15000,
		"500ms":     500,
		"500msec":   500,
		"2000us":    2,
		"2m":        120000,
		"2min":      120000,
		"1h":        3600000,
		"1hr":       3600000,
		"3H":        3 * 3600000,
		"PT10S":     10000,
		"PT1M30S":   90000,
		"PT2H":      7200000,
		"P1D":       86400000,
		"P1DT1H":    90000000,
		"P1W":       7 * 86400000,
		"0s":        0,
		"86400":     86400000,
		"1000000ms": 1000000,
	}
	for in, want := range ok {
		got, err := ParseIntervalMS(in)
		if err != nil || got != want {
			t.Errorf("ParseIntervalMS(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"abc", "s", "-5", "10x", "10 parsecs", "P", "PTS", "P1X", "P5", "1.5.3"} {
		if got, err := ParseIntervalMS(in); err == nil {
			t.Errorf("ParseIntervalMS(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]int64{
		"P1Y":            365 * 86400,
		"P1M":            30 * 86400,
		"PT1M":           60,
		"P1Y2M3DT4H5M6S": 365*86400 + 60*86400 + 3*86400 + 4*3600 + 5*60 + 6,
		"P2W":            14 * 86400,
		"PT0S":           0,
	} {
		got, err := ParseISODuration(in)
		if err != nil || got != want {
			t.Errorf("ParseISODuration(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1D", "PX", "P1", "PT1D"} {
		if got, err := ParseISODuration(in); err == nil {
			t.Errorf("ParseISODuration(%q) = %d, want an error", in, got)
		}
	}
}

func BenchmarkParseScore(b *testing.B) {
	in := []string{"INFINITY", "-INFINITY", "100", strconv.Itoa(-4242), "junk"}
	for i := 0; b.Loop(); i++ {
		_, _ = ParseScore(in[i%len(in)])
	}
}
