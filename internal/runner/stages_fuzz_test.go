package runner

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// stageSeeds are the --stages and --rate-stages values of the tests and of
// the built-in profiles, valid and invalid.
var stageSeeds = []string{
	"30s:25,1m:50", " 1m30s : 10 , 0s:0 ", "", "30s", "30x:5", "30s:five", "30s:1,2m:x",
	"30s:25,1m:50,2m30s:0", "2m:10,5m:10,2m:0", "1m:50,2m:100,2m:150,2m:200,1m:0",
	"10s:5,20s:5,10s:0", "1h:5", "-1s:3", "1s:-3", "500ms:+2", "1.5s:07", "1s:1,,2s:2", "1s:1,",
	",", "1s:2:3", "1s\n:2", "1s:9223372036854775808", "-2562047h47m16.854775808s:1",
}

// FuzzParseStages: parsing never panics; accepted stages written back with
// Stage.String, joined by ",", parse to the same stages; a rejected list
// gives one line per bad stage, in order.
func FuzzParseStages(f *testing.F) {
	for _, s := range stageSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stages, err := ParseStages(s)
		if err != nil {
			if stages != nil {
				t.Fatalf("ParseStages(%q): stages %v beside error %v", s, stages, err)
			}
			checkStagesError(t, s, err.Error())
			return
		}
		if len(stages) == 0 {
			t.Fatalf("ParseStages(%q): no stages and no error", s)
		}
		parts := make([]string, len(stages))
		for i, st := range stages {
			parts[i] = st.String()
		}
		again, err := ParseStages(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("ParseStages(%q) = %v; written back as %q it fails: %v", s, stages, strings.Join(parts, ","), err)
		}
		if !reflect.DeepEqual(again, stages) {
			t.Fatalf("ParseStages(%q) = %v; written back as %q it parses to %v", s, stages, strings.Join(parts, ","), again)
		}
	})
}

// checkStagesError checks that msg has one line per problem: a single line
// for an empty list, else one "stage N ..." line per stage that is not
// DURATION:TARGET, with N increasing, and no line for a good stage.
func checkStagesError(t *testing.T, in, msg string) {
	t.Helper()
	lines := strings.Split(msg, "\n")
	if strings.TrimSpace(in) == "" {
		if len(lines) != 1 || !strings.Contains(msg, "empty") {
			t.Fatalf("ParseStages(%q): error %q, want one line saying the list is empty", in, msg)
		}
		return
	}
	parts := strings.Split(strings.TrimSpace(in), ",")
	last := 0
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, "stage ")
		if !ok {
			t.Fatalf("ParseStages(%q): error line %q does not name a stage (error %q)", in, l, msg)
		}
		num, _, _ := strings.Cut(rest, " ")
		n, err := strconv.Atoi(num)
		if err != nil || n <= last || n > len(parts) {
			t.Fatalf("ParseStages(%q): error line %q names stage %q after stage %d of %d (error %q)", in, l, num, last, len(parts), msg)
		}
		last = n
		// The stage the line names is indeed bad on its own.
		if _, err := ParseStages(parts[n-1]); err == nil {
			t.Fatalf("ParseStages(%q): error line %q, but stage %d %q parses", in, l, n, parts[n-1])
		}
	}
	bad := 0
	for _, p := range parts {
		if _, err := ParseStages(p); err != nil {
			bad++
		}
	}
	if bad != len(lines) {
		t.Fatalf("ParseStages(%q): %d bad stages, %d error lines %q", in, bad, len(lines), msg)
	}
}
