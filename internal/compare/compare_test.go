package compare

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/driftload/driftload/internal/exitcode"
	"github.com/driftload/driftload/internal/report"
)

// testResamples keep the tests quick; the golden files use the default.
const testResamples = 1000

// find returns the change of stat of the subject named name.
func find(t *testing.T, c *Comparison, name, stat string) (Subject, Change) {
	t.Helper()
	for _, s := range append(append([]Subject{}, c.Latency...), c.Requests...) {
		if s.Name != name {
			continue
		}
		for _, ch := range s.Changes {
			if ch.Stat == stat {
				return s, ch
			}
		}
	}
	t.Fatalf("no %s %s in the comparison", name, stat)
	return Subject{}, Change{}
}

func TestCompareJudgesChangesAgainstBudgets(t *testing.T) {
	t.Parallel()
	slowerHealth := variant(standard(2, 20), func(s *runSpec) { s.endpoints[1].latency = around(0.4, 0.2) }) // +33 %, 0.1 ms
	failing := variant(standard(2, 20), func(s *runSpec) { s.endpoints[0].failRate = 0.05 })
	fewer := variant(standard(2, 20), func(s *runSpec) { s.endpoints[0].perStep, s.endpoints[1].perStep = 34, 4 })
	noTimeline := func(s runSpec) runSpec { s.noTimeline = true; return s }
	cases := []struct {
		name string
		base runSpec
		new  runSpec
		// regressions are "subject stat" that must regress, and nothing else.
		regressions []string
		// method is how http_req_duration's percentiles were judged.
		method string
	}{
		{"same load, other samples", standard(1, 20), standard(2, 20), nil, MethodIntervals},
		{"detect 20 % slower", standard(1, 20), standard(2, 24),
			[]string{"http_req_duration p50", "http_req_duration{endpoint:detect} p50", "http_req_duration p95", "http_req_duration{endpoint:detect} p95"},
			MethodIntervals},
		{"detect 3 % slower, within budget", standard(1, 20), standard(2, 20.6), nil, MethodIntervals},
		{"health check 33 % slower by 0.1 ms, below the smallest change", standard(1, 20), slowerHealth, nil, MethodIntervals},
		{"5 % of detects fail", standard(1, 20), failing,
			[]string{"http_reqs error_rate", "http_reqs{endpoint:detect} error_rate"}, MethodIntervals},
		{"15 % fewer requests", standard(1, 20), fewer,
			[]string{"http_reqs throughput", "http_reqs{endpoint:detect} throughput", "http_reqs{endpoint:healthz} throughput"}, MethodIntervals},
		{"no timeline, same load", noTimeline(standard(1, 20)), noTimeline(standard(2, 20)), nil, MethodHistogram},
		{"no timeline, detect 20 % slower", noTimeline(standard(1, 20)), noTimeline(standard(2, 24)),
			[]string{"http_req_duration p50", "http_req_duration{endpoint:detect} p50", "http_req_duration p95", "http_req_duration{endpoint:detect} p95"},
			MethodHistogram},
		{"timeline in one file only", standard(1, 20), noTimeline(standard(2, 20)), nil, MethodHistogram},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cmp, err := Compare(fakeRun(t, c.base), fakeRun(t, c.new), Options{Budgets: gate, Seed: 1, Resamples: testResamples})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, group := range [][]Subject{cmp.Latency, cmp.Requests} {
				for _, s := range group {
					for _, ch := range s.Changes {
						if ch.Verdict == VerdictRegression {
							got = append(got, s.Name+" "+ch.Stat)
						}
					}
				}
			}
			slices.Sort(got)
			want := slices.Clone(c.regressions)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("regressions %q, want %q", got, want)
			}
			wantCode := exitcode.OK
			if len(want) > 0 {
				wantCode = exitcode.ThresholdsFailed
			}
			if cmp.ExitCode != wantCode || len(cmp.Regressions) != len(want) {
				t.Errorf("exit %d with %d regression lines, want %d and %d", cmp.ExitCode, len(cmp.Regressions), wantCode, len(want))
			}
			if _, ch := find(t, cmp, "http_req_duration", "p50"); ch.Method != c.method {
				t.Errorf("method %q, want %q", ch.Method, c.method)
			}
		})
	}
}

func TestCompareIntervalsHoldTheChange(t *testing.T) {
	t.Parallel()
	cmp, err := Compare(fakeRun(t, standard(1, 20)), fakeRun(t, standard(2, 24)), Options{Budgets: gate, Seed: 1, Resamples: testResamples})
	if err != nil {
		t.Fatal(err)
	}
	for _, stat := range []string{"p50", "p95"} {
		_, ch := find(t, cmp, "http_req_duration{endpoint:detect}", stat)
		if !(ch.CI[0] < ch.Change && ch.Change < ch.CI[1]) || ch.CI[0] < 0.1 || ch.CI[1] > 0.3 {
			t.Errorf("%s: change %+.3f, CI %v: want +20 %% inside an interval beyond +10 %%", stat, ch.Change, ch.CI)
		}
	}
	// The health check did not change: its interval holds 0.
	_, ch := find(t, cmp, "http_req_duration{endpoint:healthz}", "p50")
	if ch.Verdict != VerdictUnchanged || !(ch.CI[0] < 0 && ch.CI[1] > 0) {
		t.Errorf("healthz p50: %s %v, want unchanged around 0", ch.Verdict, ch.CI)
	}
	// Too few samples for a p99 of the health check: 200 of the 500 needed.
	_, ch = find(t, cmp, "http_req_duration{endpoint:healthz}", "p99")
	if ch.Verdict != VerdictInsufficient || ch.CI != nil {
		t.Errorf("healthz p99 of 200 samples: %s %v, want insufficient data", ch.Verdict, ch.CI)
	}
	// Other Trends are compared, not judged.
	s, ch := find(t, cmp, "http_req_waiting", "p50")
	if s.Judged || ch.Limit != nil || ch.Verdict != VerdictWorse {
		t.Errorf("http_req_waiting: judged %v, limit %v, verdict %s; want a worse change, not judged", s.Judged, ch.Limit, ch.Verdict)
	}
}

func TestCompareNotComparable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		config map[string]any
		want   string
	}{
		{"other VUs", map[string]any{"vus": 20.0, "executor": "constant-vus: 20 VUs for 1m"}, "config.vus 10 vs 20"},
		{"other profile", map[string]any{"executor": "ramping-vus: 0 VUs → 1m:10"}, `profile (config.executor) "constant-vus: 10 VUs for 1m" vs "ramping-vus: 0 VUs → 1m:10"`},
		{"other options", map[string]any{"options": map[string]any{"limit": 5.0}}, `config.options (absent) vs {"limit":5}`},
		{"the open model", map[string]any{"rate": 50.0}, "config.rate (absent) vs 50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			base, new := fakeRun(t, standard(1, 20)), fakeRun(t, standard(2, 20))
			for k, v := range c.config {
				new.Config[k] = v
			}
			cmp, err := Compare(base, new, Options{Budgets: gate, Resamples: 200})
			if err != nil {
				t.Fatal(err)
			}
			if cmp.Comparable || cmp.Verdict != OutcomeNotComparable || cmp.ExitCode != exitcode.InvalidConfig {
				t.Fatalf("comparable %v, verdict %q, exit %d; want not comparable, 104", cmp.Comparable, cmp.Verdict, cmp.ExitCode)
			}
			if !slices.Contains(cmp.Differences, c.want) {
				t.Errorf("differences %q, want %q among them", cmp.Differences, c.want)
			}
			if len(cmp.Latency) != 0 {
				t.Error("an incomparable pair was compared")
			}
			forced, err := Compare(base, new, Options{Budgets: gate, Force: true, Resamples: 200})
			if err != nil {
				t.Fatal(err)
			}
			if !forced.Forced || forced.ExitCode != exitcode.OK || len(forced.Latency) == 0 {
				t.Errorf("--force: forced %v, exit %d, %d subjects", forced.Forced, forced.ExitCode, len(forced.Latency))
			}
		})
	}
}

func TestDifferencesOfTestTargetAndCheckpoints(t *testing.T) {
	t.Parallel()
	base := fakeRun(t, standard(1, 20))
	cases := []struct {
		name   string
		mutate func(r *report.Result)
		want   string
	}{
		{"another test", func(r *report.Result) { r.Test = "soak" }, `test "load" vs "soak"`},
		{"embedded target", func(r *report.Result) { r.Target.Embedded = true }, "target external target vs embedded reference server"},
		{"a checkpoint", func(r *report.Result) { r.Complete = false }, "new is a checkpoint (complete: false), not a finished run"},
		{"another schema", func(r *report.Result) { r.SchemaVersion = 2 }, "schema_version 1 vs 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := fakeRun(t, standard(2, 20))
			c.mutate(r)
			if got := Differences(base, r); !slices.Contains(got, c.want) {
				t.Errorf("differences %q, want %q", got, c.want)
			}
		})
	}
	// What does not define the load may differ.
	r := fakeRun(t, standard(2, 20))
	r.Config["seed"], r.Config["base_url"], r.Config["thresholds"], r.Target.BaseURL = 7.0, "http://other:1", "mine.json", "http://other:1"
	if got := Differences(base, r); len(got) != 0 {
		t.Errorf("seed, URL and thresholds differ: %q, want comparable", got)
	}
	if ConfigHash(base) != ConfigHash(r) {
		t.Error("config hash depends on fields that do not define the load")
	}
}

func TestCompareIsDeterministic(t *testing.T) {
	t.Parallel()
	base, new := fakeRun(t, standard(1, 20)), fakeRun(t, standard(2, 22))
	doc := func(seed uint64) string {
		c, err := Compare(base, new, Options{Budgets: gate, Seed: seed, Resamples: 500})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, c); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	first, again := doc(1), doc(1)
	if first != again {
		t.Error("the same seed gave two documents")
	}
	if first == doc(2) {
		t.Error("another seed gave the same intervals")
	}
}

func TestCompareOptionsAreChecked(t *testing.T) {
	t.Parallel()
	r := fakeRun(t, standard(1, 20))
	for _, o := range []Options{{Confidence: 1}, {Confidence: -0.5}, {Confidence: math.NaN()}, {Resamples: 10}} {
		if _, err := Compare(r, r, o); err == nil {
			t.Errorf("%+v: want an error", o)
		}
	}
}

func TestComparisonDocumentIsVersionedJSON(t *testing.T) {
	t.Parallel()
	c := comparisons(t)["regression"]
	var b bytes.Buffer
	if err := WriteJSON(&b, c); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "kind", "base", "new", "comparable", "budgets", "latency", "requests", "regressions", "verdict", "exit_code"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("document has no %q", k)
		}
	}
	if doc["kind"] != Kind || doc["schema_version"] != float64(SchemaVersion) || doc["verdict"] != OutcomeRegression {
		t.Errorf("kind %v, version %v, verdict %v", doc["kind"], doc["schema_version"], doc["verdict"])
	}
	if !strings.Contains(b.String(), `"stat": "p95"`) {
		t.Error("no p95 change in the document")
	}
}
