// Package http is driftload's generic test: load one URL with one request,
// for ad-hoc tests and comparisons with other tools.
package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/redact"
	"github.com/driftload/driftload/internal/runner"
	"github.com/driftload/driftload/internal/runner/h1"
	"github.com/driftload/driftload/internal/scenario"
)

// Test declares the http test.
var Test = &scenario.Test{
	Name:  "http",
	Short: "load one URL with one request, for ad-hoc tests and comparisons with other tools",
	Long: `http sends one request, METHOD URL, as fast as each VU can (no think time unless
--think), with full phase timing, checks and thresholds like every other test (the
"http" section of the thresholds file). The pre-flight accepts any answer from URL.

  driftload http GET http://127.0.0.1:8080/healthz --vus 50 --duration 10s
  driftload http POST http://127.0.0.1:8080/v1/items --body @item.json \
      -H "Content-Type: application/json" --expect 201`,
	Args:            []string{"METHOD", "URL"},
	Example:         "driftload http GET http://127.0.0.1:8080/",
	ResultFile:      "http_test_results.json",
	DefaultVUs:      10,
	DefaultDuration: 30 * time.Second,
	Generic:         true,
	Options:         func() scenario.Options { return &Options{} },
	New:             newHTTP,
}

// What the http options implement beside scenario.Options.
var (
	_ scenario.Targeter     = (*Options)(nil)
	_ scenario.ConfigEchoer = (*Options)(nil)
)

// Options are the http test's scenario.Options: the command line's Args,
// parsed into the Request every iteration sends by Resolve.
type Options struct {
	Args    Args
	Request *Request
}

// Bind implements scenario.Options.
func (o *Options) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.Args.Body, "body", "", "request body: @FILE reads it from FILE, anything else is the body itself")
	fs.StringArrayVarP(&o.Args.Headers, "header", "H", nil, `request header "Key: Value" (repeatable)`)
	fs.StringVar(&o.Args.Expect, "expect", "", "statuses that count as success, e.g. 200,404 (default 200–399)")
	fs.DurationVar(&o.Args.Think, "think", time.Duration(0), "pause after each request")
	// Headers and bodies often carry credentials: the result file shows
	// only their names and size (ConfigEcho).
	scenario.MarkSecret(fs, "header", "body")
}

// Resolve implements scenario.Options: args are METHOD and URL.
func (o *Options) Resolve(args []string) []error {
	if len(args) == 2 {
		o.Args.Method, o.Args.URL = args[0], args[1]
	}
	r, err := Parse(o.Args)
	if err != nil {
		return []error{err}
	}
	o.Request = r
	return nil
}

// Target implements scenario.Targeter: the URL is the target.
func (o *Options) Target() string {
	if o.Request == nil {
		return ""
	}
	return o.Request.URL
}

// ConfigEcho implements scenario.ConfigEchoer.
func (o *Options) ConfigEcho() map[string]any {
	if o.Request == nil {
		return nil
	}
	return o.Request.ConfigEcho()
}

// Request is the one request every iteration sends.
type Request struct {
	// Method and URL of the request; URL is absolute (http or https).
	Method, URL string
	// Body is sent with every request; nil sends none.
	Body []byte
	// Header is sent with every request.
	Header http.Header
	// Expect lists the statuses that count as success; empty means 200–399.
	Expect []int
	// Think is the pause after each iteration (0: none).
	Think time.Duration
}

// Args are the http test's options as typed on the command line.
type Args struct {
	Method, URL string
	// Body is "@FILE" to read the body from FILE, otherwise the body itself.
	Body string
	// Headers are "Key: Value" lines.
	Headers []string
	// Expect is a comma-separated list of statuses, e.g. "200,404".
	Expect string
	Think  time.Duration
}

// Parse checks the command line's request description and turns it into
// the request; every error is one line naming the offending argument.
func Parse(a Args) (*Request, error) {
	method, err := parseMethod(a.Method)
	if err != nil {
		return nil, err
	}
	if _, err := scenario.CheckURL("URL", a.URL); err != nil {
		return nil, err
	}
	header, err := ParseHeaders(a.Headers)
	if err != nil {
		return nil, err
	}
	body, err := ReadBody(a.Body)
	if err != nil {
		return nil, err
	}
	expect, err := ParseExpect(a.Expect)
	if err != nil {
		return nil, err
	}
	if a.Think < 0 {
		return nil, fmt.Errorf("--think %s: must not be negative", a.Think)
	}
	return &Request{Method: method, URL: a.URL, Body: body, Header: header, Expect: expect, Think: a.Think}, nil
}

// parseMethod accepts any RFC 9110 token and upper-cases it, so "get" works
// as GET; extension methods are sent as typed otherwise.
func parseMethod(m string) (string, error) {
	if m == "" || !h1.ValidToken(m) {
		return "", fmt.Errorf("method %q: want an HTTP method such as GET or POST", m)
	}
	return strings.ToUpper(m), nil
}

// ParseHeaders parses "Key: Value" lines; a key given twice is sent twice.
// The name must be a token and the value free of control characters (but
// HTAB). Host cannot be set: the request goes to the URL's host. Errors name
// the header by its position and key, never its value (values carry
// credentials).
func ParseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for i, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !h1.ValidToken(k) {
			return nil, fmt.Errorf(`-H #%d: want "Key: Value" with a header name before the colon (value not shown)`, i+1)
		}
		if !isFieldValue(v) {
			return nil, fmt.Errorf("-H #%d %s: value must not contain CR, LF, NUL or another control character", i+1, k)
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			return nil, fmt.Errorf("-H #%d %s: Host cannot be set, the request goes to the URL's host", i+1, k)
		}
		h.Add(k, v)
	}
	return h, nil
}

// isFieldValue reports whether v is an RFC 9110 field value net/http
// sends: no control character but HTAB, and no DEL. net/http's transport
// refuses any other value on every request, so the flag is refused instead.
func isFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// ReadBody returns the request body: the content of FILE for "@FILE", nil
// for "", the string itself otherwise.
func ReadBody(spec string) ([]byte, error) {
	if spec == "" {
		return nil, nil
	}
	path, isFile := strings.CutPrefix(spec, "@")
	if !isFile {
		return []byte(spec), nil
	}
	if path == "" {
		return nil, errors.New(`--body "@": want @FILE`)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		// Quoted, as every other argument: a file name may hold a newline.
		return nil, fmt.Errorf("--body %q: %v", spec, err)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// ParseExpect parses a comma-separated list of statuses (100–599); ""
// means the default, 200–399.
func ParseExpect(list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("--expect %q: want statuses 100–599 separated by commas, e.g. 200,404", list)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkName is the check's name: "status 2xx/3xx" by default, else the list.
func (o *Request) checkName() string {
	if len(o.Expect) == 0 {
		return "status 2xx/3xx"
	}
	parts := make([]string, len(o.Expect))
	for i, s := range o.Expect {
		parts[i] = strconv.Itoa(s)
	}
	return "status " + strings.Join(parts, ",")
}

type httpTest struct {
	req   runner.Request
	check string
	think time.Duration
}

func newHTTP(env scenario.Env, _ *metrics.Registry) (scenario.Instance, error) {
	opts, ok := env.Options.(*Options)
	if !ok || opts == nil || opts.Request == nil {
		return nil, errors.New("http: no request given (want METHOD and URL)")
	}
	o := opts.Request
	return &httpTest{
		// One request shared by every VU: vu.Do never modifies it.
		req: runner.Request{
			Method: o.Method, URL: o.URL, Header: o.Header, Body: o.Body,
			Endpoint: "http", Scenario: "http", Timeout: env.Timeout, Expect: o.Expect,
		},
		check: o.checkName(),
		think: o.Think,
	}, nil
}

func (h *httpTest) SetupVU(*runner.VU) {}

func (h *httpTest) Iteration(ctx context.Context, vu *runner.VU) {
	resp := vu.Do(ctx, &h.req)
	if resp.Canceled {
		return
	}
	vu.Check(h.check, resp.Err == nil && h.req.Expects(resp.Status))
	if h.think > 0 {
		runner.Sleep(ctx, h.think)
	}
}

func (h *httpTest) Analyse(*metrics.Snapshot) scenario.Findings { return scenario.Findings{} }

// ConfigEcho is what the result file echoes of the options: header values
// are redacted (they often carry credentials) and the body is summarised.
func (o *Request) ConfigEcho() map[string]any {
	names := make([]string, 0, len(o.Header))
	for k := range o.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	return map[string]any{"method": o.Method, "url": redact.URL(o.URL), "headers": names, "body_bytes": len(o.Body), "expect": o.Expect, "think": o.Think.String()}
}
