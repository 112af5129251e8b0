package analysis

import (
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	cases := []struct{ got, want string }{
		{fmtMs(48.4), "48ms"}, {fmtMs(4.25), "4.2ms"}, {fmtMs(0.354), "0.35ms"},
		{fmtRPS(812.4), "812 req/s"}, {fmtRPS(4.54), "4.5 req/s"},
		{fmtPct(0.032), "3.2%"}, {fmtPct(0), "0.0%"},
		{fmtOffset(250*time.Second + 400*time.Millisecond), "4m10s"}, {fmtOffset(0), "0s"},
		{fmtOffset(300 * time.Millisecond), "300ms"},
		{fmtSigned(120.4), "+120"}, {fmtSigned(-60), "-60"}, {fmtSigned(2.54), "+2.5"},
		{fmtSigned(0.3), "+0.3"}, {fmtSigned(-0.0042), "-0.0042"}, {fmtSigned(0), "+0"},
		{fmtGrowth(0.42), "42%"}, {fmtGrowth(-0.035), "3.5%"},
		{FormatP(0.0356), "p=0.036"}, {FormatP(0.0004), "p<0.001"},
		{joinAnd(nil), ""}, {joinAnd([]string{"a"}), "a"}, {joinAnd([]string{"a", "b", "c"}), "a, b and c"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}
