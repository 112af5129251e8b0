package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var updateScripts = flag.Bool("update", false, "rewrite the files a script compares output with (cmp) from what the binary printed")

// TestScript is the command line's specification: every
// testdata/script/*.txtar runs the real driftload binary (built by
// TestMain, its directory first on PATH) and states what it prints, writes
// and exits with. A behaviour change of the binary shows as a diff of a
// script. The commands the scripts have beyond testscript's own:
//
//	driftload ARGS... [&]   run the binary; its exit code is kept for status.
//	                        With a final &, in the background (one at a time).
//	interrupt [TERM]        SIGINT (or SIGTERM) to the background driftload, then
//	                        wait for it.
//	status CODE             the last driftload, interrupt or stopserve exited CODE.
//	lines stdout|stderr N   the output has exactly N lines.
//	jsonfield FILE PATH [VALUE]
//	                        the JSON field at dotted PATH (array indexes are
//	                        numbers) exists, or equals VALUE (JSON, else a plain
//	                        string; >N and <N compare numbers).
//	waitfile FILE           wait (at most 30 s) until FILE exists and is not empty.
//	startserve [FLAGS...]   run `driftload serve --addr 127.0.0.1:0 FLAGS` in the
//	                        background; sets BASE (its URL), ADDR (host:port) and
//	                        KEY (its dev key, unless --api-key is among FLAGS).
//	                        One server at a time; killed when the script ends.
//	stopserve               SIGINT to the server, then wait for it.
//	stub STATUS|hang        an HTTP server in the test answering STATUS to
//	                        everything, or a listener that never answers; sets
//	                        STUB (its URL).
//	waitconn                wait (at most 30 s) until the hang stub has a connection.
//
// [root] is true when the tests run as root (who can write anywhere).
// go test -run TestScript -update rewrites the expected output of cmp
// inside the scripts (the help texts), for review as a diff.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       *updateScripts,
		RequireUniqueNames:  true,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(binary)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("NO_COLOR", "1")
			// serve must print its dev key, whatever the developer's shell has.
			env.Setenv("DRIFTLOCK_API_KEYS", "")
			st := &scriptState{code: -1}
			for _, kv := range env.Vars {
				if k, _, ok := strings.Cut(kv, "="); ok {
					st.envKeys = append(st.envKeys, k)
				}
			}
			env.Values[stateKey{}] = st
			env.Defer(st.cleanup)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"driftload":  cmdDriftload,
			"interrupt":  cmdInterrupt,
			"status":     cmdStatus,
			"lines":      cmdLines,
			"jsonfield":  cmdJSONField,
			"waitfile":   cmdWaitFile,
			"startserve": cmdStartServe,
			"stopserve":  cmdStopServe,
			"stub":       cmdStub,
			"waitconn":   cmdWaitConn,
		},
	})
}

type stateKey struct{}

// scriptState is what one script's commands share.
type scriptState struct {
	envKeys []string // names of the variables a child process gets
	code    int      // exit code of the last driftload, interrupt or stopserve

	bg    *proc // background driftload
	serve *proc // startserve's server

	stubs     []net.Listener
	stubConns chan struct{} // one value per connection the hang stub accepted
}

func state(ts *testscript.TestScript) *scriptState { return ts.Value(stateKey{}).(*scriptState) }

func (st *scriptState) cleanup() {
	for _, p := range []*proc{st.bg, st.serve} {
		if p != nil {
			p.kill()
		}
	}
	for _, ln := range st.stubs {
		ln.Close()
	}
}

// env is the script's environment for a child process started outside
// testscript's exec: the variables Setup made, with their current values,
// and the ones these commands set.
func (st *scriptState) env(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range append(st.envKeys, "BASE", "ADDR", "KEY", "STUB") {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// proc is a child process running in the background, its output collected.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{} // closed when it has exited
}

func startProc(ts *testscript.TestScript, args ...string) *proc {
	p := &proc{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Dir = ts.MkAbs(".")
	p.cmd.Env = state(ts).env(ts)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	ts.Check(p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// stop sends sig and waits; it returns the exit code (-1: killed by a signal).
func (p *proc) stop(ts *testscript.TestScript, sig syscall.Signal) int {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
		ts.Fatalf("driftload %s did not stop within 30 s of %v", strings.Join(p.cmd.Args[1:], " "), sig)
	}
	fmt.Fprint(ts.Stdout(), p.stdout.String())
	fmt.Fprint(ts.Stderr(), p.stderr.String())
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func cmdDriftload(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if len(args) > 0 && args[len(args)-1] == "&" {
		if st.bg != nil {
			ts.Fatalf("a background driftload is already running")
		}
		st.bg = startProc(ts, args[:len(args)-1]...)
		return
	}
	err := ts.Exec(binary, args...)
	st.code = 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("running driftload: %v", err)
		}
		st.code = ee.ExitCode()
	}
	ts.Logf("[exit %d]", st.code)
	switch {
	case neg && st.code == 0:
		ts.Fatalf("driftload succeeded, want a failure")
	case !neg && st.code != 0:
		ts.Fatalf("driftload exited %d, want 0", st.code)
	}
}

func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if st.bg == nil || len(args) > 1 || (len(args) == 1 && args[0] != "TERM") || neg {
		ts.Fatalf("usage: interrupt [TERM] (after driftload ... &)")
	}
	sig := syscall.SIGINT
	if len(args) == 1 {
		sig = syscall.SIGTERM
	}
	st.code = st.bg.stop(ts, sig)
	st.bg = nil
	ts.Logf("[exit %d]", st.code)
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: status CODE")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	if got := state(ts).code; (got == want) == neg {
		ts.Fatalf("exit code %d, want %s%d", got, map[bool]string{true: "not "}[neg], want)
	}
}

func cmdLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || (args[0] != "stdout" && args[0] != "stderr") {
		ts.Fatalf("usage: lines stdout|stderr N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	text := ts.ReadFile(args[0])
	got := strings.Count(text, "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		got++
	}
	if (got == want) == neg {
		ts.Fatalf("%s has %d lines, want %s%d:\n%s", args[0], got, map[bool]string{true: "not "}[neg], want, text)
	}
}

func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: jsonfield FILE PATH [VALUE]")
	}
	var doc any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("%s is not JSON: %v", args[0], err)
	}
	got, found := lookup(doc, args[1])
	if len(args) == 2 {
		if found == neg {
			ts.Fatalf("%s: %s %s", args[0], args[1], map[bool]string{true: "exists", false: "is missing"}[found])
		}
		return
	}
	if !found {
		ts.Fatalf("%s: %s is missing", args[0], args[1])
	}
	ok, err := fieldMatches(got, args[2])
	ts.Check(err)
	if ok == neg {
		shown, _ := json.Marshal(got)
		ts.Fatalf("%s: %s is %s, want %s%s", args[0], args[1], shown, map[bool]string{true: "not "}[neg], args[2])
	}
}

// lookup follows a dotted path through objects and arrays.
func lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		switch m := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(m) {
				return nil, false
			}
			v = m[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// fieldMatches compares a JSON value with a script's expectation: >N or
// <N for numbers, else JSON equality, else the string itself.
func fieldMatches(got any, want string) (bool, error) {
	if op := want[:1]; len(want) > 1 && (op == ">" || op == "<") {
		n, err := strconv.ParseFloat(want[1:], 64)
		if err != nil {
			return false, fmt.Errorf("bad comparison %q: %v", want, err)
		}
		f, isNum := got.(float64)
		return isNum && (op == ">" && f > n || op == "<" && f < n), nil
	}
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		w = want
	}
	return reflect.DeepEqual(got, w), nil
}

func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 30 s", args[0])
		}
	}
}

func cmdStartServe(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if st.serve != nil || neg {
		ts.Fatalf("usage: startserve [FLAGS...] (one server a script)")
	}
	wantKey := true
	for _, a := range args {
		if a == "--api-key" || strings.HasPrefix(a, "--api-key=") {
			wantKey = false
		}
	}
	p := startProc(ts, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	st.serve = p
	var base, key string
	for deadline := time.Now().Add(15 * time.Second); base == "" || (wantKey && key == ""); time.Sleep(20 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "driftload serve: listening on "); ok {
				base = u
			}
			if k, ok := strings.CutPrefix(sc.Text(), "driftload serve: dev API key: "); ok {
				key = k
			}
		}
		select {
		case <-p.done:
			ts.Fatalf("serve exited before listening:\n%s", p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			ts.Fatalf("serve printed no address (and dev key) within 15 s:\n%s", p.stderr.String())
		}
	}
	ts.Setenv("BASE", base)
	ts.Setenv("ADDR", strings.TrimPrefix(base, "http://"))
	ts.Setenv("KEY", key)
}

func cmdStopServe(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if st.serve == nil || neg || len(args) > 0 {
		ts.Fatalf("usage: stopserve (after startserve)")
	}
	st.code = st.serve.stop(ts, syscall.SIGINT)
	st.serve = nil
	ts.Logf("[exit %d]", st.code)
}

func cmdStub(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if len(args) != 1 || neg || (args[0] == "hang" && st.stubConns != nil) {
		ts.Fatalf("usage: stub STATUS|hang (one hang stub a script)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	st.stubs = append(st.stubs, ln)
	ts.Setenv("STUB", "http://"+ln.Addr().String())
	if args[0] == "hang" {
		st.stubConns = make(chan struct{}, 1000)
		go func() {
			var held []net.Conn // never answered; closed with the listener's script
			for {
				c, err := ln.Accept()
				if err != nil {
					for _, c := range held {
						c.Close()
					}
					return
				}
				held = append(held, c)
				select {
				case st.stubConns <- struct{}{}:
				default:
				}
			}
		}()
		return
	}
	code, err := strconv.Atoi(args[0])
	ts.Check(err)
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(code)
		}))
	}()
}

func cmdWaitConn(ts *testscript.TestScript, neg bool, args []string) {
	st := state(ts)
	if st.stubConns == nil || neg || len(args) > 0 {
		ts.Fatalf("usage: waitconn (after stub hang)")
	}
	select {
	case <-st.stubConns:
	case <-time.After(30 * time.Second):
		ts.Fatalf("nothing connected to the stub within 30 s")
	}
}
