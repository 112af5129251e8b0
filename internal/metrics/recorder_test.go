package metrics

import (
	"fmt"
	"testing"
)

// AddBatch and Registry.Series land samples in the same series as Add.
func TestAddBatchAndRegistrySeriesMatchAdd(t *testing.T) {
	reg := NewRegistry()
	trend := reg.MustDefine("t", Trend, Time)
	rate := reg.MustDefine("r", Rate, Default)
	gauge := reg.MustDefine("g", Gauge, Default)
	tags := NewTags("status", "200", "endpoint", "e")
	rec := reg.NewRecorder()
	rec.Add(trend, tags, 1)
	rec.AddBool(rate, tags, true)
	ss := []*Series{reg.Series(trend, NewTags("endpoint", "e", "status", "200")), reg.Series(rate, tags), reg.Series(gauge, nil)}
	if ss[0] != rec.Series(trend, tags) {
		t.Fatal("Registry.Series and Recorder.Series must resolve the same series")
	}
	rec.AddBatch(ss, []float64{3, 0, 7})
	snap := reg.Snapshot()
	tr, _ := snap.Sink("t", NewTags("endpoint", "e"))
	r, _ := snap.Sink("r", nil)
	g, _ := snap.Sink("g", nil)
	if tr.Count != 2 || tr.Sum != 4 || r.Count != 2 || r.Trues != 1 || g.Value != 7 {
		t.Fatalf("trend %+v rate %+v gauge %+v", tr, r, g)
	}
	if n := len(snap.Series); n != 3 {
		t.Fatalf("%d series, want 3", n)
	}
}

// Add finds the series of the tags given at the call, also when the caller
// reuses one tag buffer and changes it between calls (as VU.Check does).
func TestAddWithAReusedTagBuffer(t *testing.T) {
	reg := NewRegistry()
	checks := reg.MustDefine("checks", Rate, Default)
	other := reg.MustDefine("other", Rate, Default)
	rec := reg.NewRecorder()
	buf := make(Tags, 1)
	for _, call := range []struct {
		m    *Metric
		name string
	}{{checks, "a"}, {checks, "a"}, {checks, "b"}, {other, "b"}, {checks, "a"}} {
		buf[0] = Tag{Key: "check", Value: call.name}
		rec.Add(call.m, buf, 1)
	}
	snap := reg.Snapshot()
	for _, want := range []struct {
		metric, name string
		n            int64
	}{{"checks", "a", 3}, {"checks", "b", 1}, {"other", "b", 1}, {"other", "a", 0}} {
		if s, _ := snap.Sink(want.metric, NewTags("check", want.name)); s.Count != want.n {
			t.Errorf("%s{check:%s}: %d samples, want %d", want.metric, want.name, s.Count, want.n)
		}
	}
}

// A recorder finds its series by a list while it has few and by a map
// beyond: either way each tag set, in any order, lands in its own series.
func TestRecorderResolvesManySeries(t *testing.T) {
	for _, n := range []int{1, recentSeries, recentSeries + 1, 5 * recentSeries} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			reg := NewRegistry()
			m := reg.MustDefine("c", Counter, Default)
			rec := reg.NewRecorder()
			for round := 1; round <= 3; round++ {
				for i := range n {
					rec.Add(m, NewTags("i", fmt.Sprint(i), "k", "v"), float64(i))
					rec.Add(m, NewTags("k", "v", "i", fmt.Sprint(i)), float64(i))
				}
			}
			snap := reg.Snapshot()
			if len(snap.Series) != n {
				t.Fatalf("%d series, want %d", len(snap.Series), n)
			}
			for i := range n {
				s, _ := snap.Sink("c", NewTags("i", fmt.Sprint(i), "k", "v"))
				if s.Count != 6 || s.Sum != float64(6*i) {
					t.Errorf("series i=%d: count %d sum %v, want 6 and %d", i, s.Count, s.Sum, 6*i)
				}
			}
		})
	}
}

var benchTags = NewTags("endpoint", "detect", "method", "POST", "scenario", "load", "status", "200")

// BenchmarkRecordAdd is one tagged Trend sample through the recorder's
// per-sample hash and cache (Check, custom metrics).
func BenchmarkRecordAdd(b *testing.B) {
	reg := NewRegistry()
	m := reg.MustDefine("http_req_duration", Trend, Time)
	rec := reg.NewRecorder()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec.Add(m, benchTags, float64(i%1000)/10)
	}
}

// BenchmarkRecordAddTo is one Trend sample into a series resolved once.
func BenchmarkRecordAddTo(b *testing.B) {
	reg := NewRegistry()
	rec := reg.NewRecorder()
	s := reg.Series(reg.MustDefine("http_req_duration", Trend, Time), benchTags)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rec.AddTo(s, float64(i%1000)/10)
	}
}

// BenchmarkRecordRequest is one request's ten built-in samples (a Counter,
// eight Trends, a Rate) recorded with AddBatch, as vu.Do does.
func BenchmarkRecordRequest(b *testing.B) {
	reg := NewRegistry()
	rec := reg.NewRecorder()
	ss := make([]*Series, 10)
	for i := range ss {
		typ := Trend
		switch i {
		case 0:
			typ = Counter
		case 9:
			typ = Rate
		}
		ss[i] = reg.Series(reg.MustDefine(string(rune('a'+i)), typ, Default), benchTags)
	}
	vs := make([]float64, 10)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for j := range vs {
			vs[j] = float64((i+j)%1000) / 10
		}
		rec.AddBatch(ss, vs)
	}
}

// A VU's Add takes no series' lock while the collector keeps up, and past
// that skips a series another goroutine holds (one preempted in the middle
// of recording) until its backlog is full: a busy series does not stop it.
func TestABusySeriesDoesNotStopTheRecorder(t *testing.T) {
	reg := NewRegistry()
	c := reg.MustDefine("c", Counter, Default)
	free := reg.MustDefine("free", Counter, Default)
	rec := reg.NewRecorder()
	busy := reg.Series(c, nil)
	busy.mu.Lock()
	const n = recorderBacklog/2 - 1 // the buffer stays below the backlog
	for range n {
		rec.Add(c, nil, 1)
		rec.Add(free, nil, 1)
	}
	if got := len(rec.buf); got < n || got >= recorderBacklog {
		t.Fatalf("%d samples buffered with a series busy, want %d to %d", got, n, recorderBacklog-1)
	}
	if freeNow := reg.Series(free, nil); freeNow.intervals[0].Sum == 0 {
		t.Fatal("the recorder did not move the free series' samples itself")
	}
	busy.mu.Unlock()
	snap := reg.Snapshot()
	busySum, _ := snap.Sink("c", nil)
	freeSum, _ := snap.Sink("free", nil)
	if busySum.Sum != n || freeSum.Sum != n {
		t.Fatalf("collected %g and %g, want %d each", busySum.Sum, freeSum.Sum, n)
	}
}

// An interval's collection does not wait for a recorder its goroutine
// holds: those samples join a later interval; the final collections wait
// for them.
func TestCollectionsDoNotWaitForABusyRecorder(t *testing.T) {
	reg := NewRegistry()
	c := reg.MustDefine("c", Counter, Default)
	idle, held := reg.NewRecorder(), reg.NewRecorder()
	idle.Add(c, nil, 1)
	held.Add(c, nil, 10)
	held.mu.Lock() // its VU is in the middle of an Add, and preempted
	first, _ := reg.CloseInterval().Sink("c", nil)
	live, _ := reg.LiveSnapshot().Sink("c", nil)
	if first.Sum != 1 || live.Sum != 1 {
		t.Fatalf("with a recorder held: interval %g, live totals %g, want 1 and 1", first.Sum, live.Sum)
	}
	done := make(chan float64)
	go func() {
		last, _ := reg.CloseLastInterval().Sink("c", nil)
		done <- last.Sum
	}()
	held.mu.Unlock()
	if got := <-done; got != 10 {
		t.Fatalf("the last interval holds %g, want the held recorder's 10", got)
	}
	if total, _ := reg.Snapshot().Sink("c", nil); total.Sum != 11 {
		t.Fatalf("totals %g, want 11", total.Sum)
	}
}
