package htmlreport

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFormatValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0.4251, "ms", "0.43 ms"},
		{12.34, "ms", "12.3 ms"},
		{526.335, "ms", "526 ms"},
		{1279.999, "ms", "1.28 s"},
		{12509.18, "ms", "12.5 s"},
		{0, "%", "0 %"},
		{1, "%", "100 %"},
		{0.6896551, "%", "68.97 %"},
		{0.0004, "%", "0.040 %"},
		{512, "B", "512 B"},
		{3 << 20, "B", "3.0 MiB"},
		{26.826, "/s", "26.83/s"},
		{20, "/s", "20/s"},
		{787, "", "787"},
		{0.5, "", "0.5"},
		{123456.7, "", "123457"},
		{math.NaN(), "ms", "—"},
		{math.Inf(1), "", "—"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestFormatSecondsAndClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s            float64
		length, when string
	}{
		{0, "0 s", "0:00"},
		{15.5, "15.5 s", "0:16"},
		{20.393777596, "20.4 s", "0:20"},
		{182.4, "3 min 2 s", "3:02"},
		{3900, "1 h 5 min", "1:05:00"},
		{-1, "—", "-0:01"},
	}
	for _, tt := range tests {
		if got := formatSeconds(tt.s); got != tt.length {
			t.Errorf("formatSeconds(%v) = %q, want %q", tt.s, got, tt.length)
		}
		if got := formatClock(tt.s); got != tt.when {
			t.Errorf("formatClock(%v) = %q, want %q", tt.s, got, tt.when)
		}
	}
}

func TestValuesJSONKeepsGapsAsNull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   Values
		want string
	}{
		{nil, "[]"},
		{Values{1, 2.5}, "[1,2.5]"},
		{Values{math.NaN(), 0.1234567891, math.Inf(-1)}, "[null,0.123457,null]"},
		{Values{1e21, -3}, "[1e+21,-3]"},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("json(%v) = %s, want %s", []float64(tt.in), got, tt.want)
		}
		var back Values
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(back); string(again) != tt.want {
			t.Errorf("json(%s) read back writes %s", got, again)
		}
	}
}
