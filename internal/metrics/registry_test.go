package metrics

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestSubMetricMergesEverySeriesWithTheTags(t *testing.T) {
	reg := NewRegistry()
	d := reg.MustDefine("http_req_duration", Trend, Time)
	rec := reg.NewRecorder()
	rec.Add(d, Tags{{"endpoint", "detect"}, {"status", "200"}}, 10)
	rec.Add(d, Tags{{"status", "500"}, {"endpoint", "detect"}}, 30)
	rec.Add(d, Tags{{"endpoint", "healthz"}, {"status", "200"}}, 1)
	snap := reg.Snapshot()

	all, _ := snap.Sink("http_req_duration", nil)
	detect, _ := snap.Sink("http_req_duration", Tags{{"endpoint", "detect"}})
	ok200, _ := snap.Sink("http_req_duration", Tags{{"status", "200"}})
	if all.Count != 3 || detect.Count != 2 || ok200.Count != 2 {
		t.Fatalf("counts all/detect/200 = %d/%d/%d, want 3/2/2", all.Count, detect.Count, ok200.Count)
	}
	if avg, _ := detect.Stat("avg", 0, 0); avg != 20 {
		t.Errorf("detect avg = %g, want 20", avg)
	}
	if _, ok := snap.Sink("nope", nil); ok {
		t.Errorf("an undefined metric must not be found")
	}
	// Same tags in another order are one series.
	n := 0
	for _, s := range snap.Series {
		if s.Metric == d {
			n++
		}
	}
	if n != 3 {
		t.Errorf("series = %d, want 3", n)
	}
}

func TestDefineRejectsATypeConflict(t *testing.T) {
	reg := NewRegistry()
	reg.MustDefine("x", Counter, Default)
	if _, err := reg.Define("x", Rate, Default); err == nil {
		t.Fatal("redefining a counter as a rate must fail")
	}
	if m, err := reg.Define("x", Counter, Default); err != nil || m.Type != Counter {
		t.Fatalf("redefining with the same type must return the metric: %v", err)
	}
}

func TestConcurrentRecordersLoseNothing(t *testing.T) {
	reg := NewRegistry()
	c := reg.MustDefine("reqs", Counter, Default)
	tr := reg.MustDefine("lat", Trend, Time)
	const vus, per = 16, 5000
	var wg sync.WaitGroup
	for v := 0; v < vus; v++ {
		rec := reg.NewRecorder()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				rec.Add(c, Tags{{"vu", "x"}}, 1)
				rec.Add(tr, nil, float64(i%100))
			}
		}()
	}
	// Interval snapshots race with recording on purpose.
	var intervals int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			s, _ := reg.CloseInterval().Sink("reqs", nil)
			intervals += int64(s.Sum)
		}
	}()
	wg.Wait()
	<-done
	snap := reg.Snapshot()
	total, _ := snap.Sink("reqs", nil)
	lat, _ := snap.Sink("lat", nil)
	if total.Sum != vus*per || lat.Count != vus*per {
		t.Fatalf("total = %g, lat count = %d, want %d", total.Sum, lat.Count, vus*per)
	}
	last, _ := reg.CloseInterval().Sink("reqs", nil)
	if intervals+int64(last.Sum) != vus*per {
		t.Fatalf("intervals add up to %d, want %d", intervals+int64(last.Sum), vus*per)
	}
}

func TestGaugeKeepsTheLatestValueAcrossRecorders(t *testing.T) {
	reg := NewRegistry()
	g := reg.MustDefine("vus", Gauge, Default)
	a, b := reg.NewRecorder(), reg.NewRecorder()
	a.Add(g, nil, 5)
	b.Add(g, nil, 7)
	a.Add(g, nil, 2)
	s, _ := reg.Snapshot().Sink("vus", nil)
	if s.Value != 2 || s.Max != 7 || s.Min != 2 {
		t.Fatalf("gauge = %+v, want value 2 min 2 max 7", s)
	}
}

func TestTagsStringIsSortedAndContainsMatches(t *testing.T) {
	tags := Tags{{"status", "200"}, {"endpoint", "detect"}}
	if got := tags.String(); got != "endpoint:detect,status:200" {
		t.Errorf("String = %q", got)
	}
	if !tags.Contains(Tags{{"endpoint", "detect"}}) || tags.Contains(Tags{{"endpoint", "demo"}}) || tags.Contains(Tags{{"x", "1"}}) {
		t.Errorf("Contains is wrong")
	}
}

// Every sample is in the cumulative snapshot exactly once, whether its
// interval is still open or closed, and in the one interval it fell in.
func TestSnapshotsCountEverySampleOnceAcrossIntervals(t *testing.T) {
	for _, typ := range []Type{Counter, Gauge, Rate, Trend} {
		t.Run(typ.String(), func(t *testing.T) {
			reg := NewRegistry()
			m := reg.MustDefine("m", typ, Default)
			rec := reg.NewRecorder()
			count := func(snap *Snapshot) int64 {
				s, _ := snap.Sink("m", nil)
				return s.Count
			}
			steps := []struct {
				add            int
				close          bool
				total, ofIntvl int64 // want: cumulative count; count of the interval closed
			}{
				{add: 3, total: 3},
				{close: true, total: 3, ofIntvl: 3},
				{add: 2, total: 5},
				{add: 1, close: true, total: 6, ofIntvl: 3},
				{close: true, total: 6, ofIntvl: 0},
			}
			for i, st := range steps {
				for range st.add {
					rec.Add(m, nil, 2)
				}
				if st.close {
					if got := count(reg.CloseInterval()); got != st.ofIntvl {
						t.Errorf("step %d: interval holds %d samples, want %d", i, got, st.ofIntvl)
					}
				}
				if got := count(reg.Snapshot()); got != st.total {
					t.Errorf("step %d: cumulative snapshot holds %d samples, want %d", i, got, st.total)
				}
			}
			s, _ := reg.Snapshot().Sink("m", nil)
			if v, _ := s.Stat(map[Type]string{Counter: "count", Gauge: "value", Rate: "passes", Trend: "avg"}[typ], 0, 0); v != map[Type]float64{Counter: 12, Gauge: 2, Rate: 6, Trend: 2}[typ] {
				t.Errorf("cumulative statistic %g", v)
			}
		})
	}
}

// A collector that runs behind (a saturated process) closes intervals late;
// each sample still lands in the interval of the moment it was recorded;
// the last interval takes everything recorded after it, and nothing is lost.
func TestSamplesLandInTheIntervalTheyWereRecordedIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := NewRegistry()
		c := reg.MustDefine("c", Counter, Default)
		g := reg.MustDefine("g", Gauge, Default)
		tr := reg.MustDefine("t", Trend, Time)
		rec := reg.NewRecorder()
		rec.Add(c, nil, 100) // before the clock: joins interval 0
		reg.SetIntervals(time.Now(), time.Second)
		time.Sleep(time.Second / 2)
		// Intervals 0..5 get 1..6 samples, but the collector closes only
		// after every third, and closes the three at once.
		var got []int64
		closeOne := func() {
			s, _ := reg.CloseInterval().Sink("c", nil)
			got = append(got, int64(s.Sum))
		}
		for i := range 6 {
			for range i + 1 {
				rec.Add(c, nil, 1)
				rec.Add(tr, nil, float64(i))
			}
			rec.Add(g, nil, float64(i))
			time.Sleep(time.Second)
			if i%3 == 2 {
				closeOne()
				closeOne()
				closeOne()
			}
		}
		rec.Add(c, nil, 10) // in 6, the run's last
		time.Sleep(3 * time.Second)
		rec.Add(c, nil, 1000) // in 9, after the run's end
		last, _ := reg.CloseLastInterval().Sink("c", nil)
		got = append(got, int64(last.Sum))
		want := []int64{101, 2, 3, 4, 5, 6, 1010}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("intervals hold %v, want %v", got, want)
		}
		snap := reg.Snapshot()
		total, _ := snap.Sink("c", nil)
		trend, _ := snap.Sink("t", nil)
		gauge, _ := snap.Sink("g", nil)
		if total.Sum != 1131 || trend.Count != 21 || gauge.Value != 5 || gauge.Count != 6 {
			t.Fatalf("totals: counter %g (want 1131), trend %d samples (want 21), gauge %g of %d (want 5 of 6)",
				total.Sum, trend.Count, gauge.Value, gauge.Count)
		}
	})
}

// A search level restarts the clock: what the last one left joins the new
// first interval, and the numbering starts again.
func TestSetIntervalsRestartsTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := NewRegistry()
		c := reg.MustDefine("c", Counter, Default)
		rec := reg.NewRecorder()
		reg.SetIntervals(time.Now(), time.Second)
		time.Sleep(5 * time.Second)
		rec.Add(c, nil, 1) // interval 5, never closed under this clock
		rec.Flush()
		reg.SetIntervals(time.Now(), time.Second)
		rec.Add(c, nil, 2)
		time.Sleep(time.Second)
		rec.Add(c, nil, 4)
		first, _ := reg.CloseInterval().Sink("c", nil)
		second, _ := reg.CloseInterval().Sink("c", nil)
		if first.Sum != 3 || second.Sum != 4 {
			t.Fatalf("intervals %g and %g, want 3 and 4", first.Sum, second.Sum)
		}
	})
}
