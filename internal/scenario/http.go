package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/driftload/driftload/internal/metrics"
	"github.com/driftload/driftload/internal/runner"
)

func init() {
	register(&Test{
		Name:               "http",
		Short:              "load one URL with one request, for ad-hoc tests and comparisons with other tools",
		ResultFile:         "http_test_results.json",
		Metrics:            catalog["http"],
		DefaultVUs:         10,
		DefaultDuration:    30 * time.Second,
		PreflightReachable: true,
		New:                newHTTP,
	})
}

// HTTPOptions are the http test's own options: the one request every
// iteration sends.
type HTTPOptions struct {
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

// HTTPArgs are the http test's options as typed on the command line.
type HTTPArgs struct {
	Method, URL string
	// Body is "@FILE" to read the body from FILE, otherwise the body itself.
	Body string
	// Headers are "Key: Value" lines.
	Headers []string
	// Expect is a comma-separated list of statuses, e.g. "200,404".
	Expect string
	Think  time.Duration
}

// ParseHTTPArgs checks the command line's request description and turns it
// into options; every error is one line naming the offending argument.
func ParseHTTPArgs(a HTTPArgs) (*HTTPOptions, error) {
	method, err := parseMethod(a.Method)
	if err != nil {
		return nil, err
	}
	if err := checkTargetURL(a.URL); err != nil {
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
	return &HTTPOptions{Method: method, URL: a.URL, Body: body, Header: header, Expect: expect, Think: a.Think}, nil
}

// parseMethod accepts any RFC 9110 token and upper-cases it, so "get" works
// as GET; extension methods are sent as typed otherwise.
func parseMethod(m string) (string, error) {
	if m == "" || !isToken(m) {
		return "", fmt.Errorf("method %q: want an HTTP method such as GET or POST", m)
	}
	return strings.ToUpper(m), nil
}

func checkTargetURL(raw string) error {
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q: want an http:// or https:// URL with a host", raw)
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token (method and header names).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}

// ParseHeaders parses "Key: Value" lines; a key given twice is sent twice.
// Host cannot be set: the request goes to the URL's host.
func ParseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !isToken(k) {
			return nil, fmt.Errorf(`-H %q: want "Key: Value"`, l)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("-H %q: value must not contain CR, LF or NUL", l)
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			return nil, fmt.Errorf("-H %q: Host cannot be set, the request goes to the URL's host", l)
		}
		h.Add(k, v)
	}
	return h, nil
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
		return nil, fmt.Errorf("--body @%s: %v", path, err)
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
func (o *HTTPOptions) checkName() string {
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

func newHTTP(env Env, _ *metrics.Registry) (Instance, error) {
	o, ok := env.Options.(*HTTPOptions)
	if !ok || o == nil {
		return nil, errors.New("http: no request given (want METHOD and URL)")
	}
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
	vu.Check(h.check, resp.Err == nil && expectedStatus(resp.Status, h.req.Expect))
	if h.think > 0 {
		runner.Sleep(ctx, h.think)
	}
}

func expectedStatus(status int, expect []int) bool {
	if len(expect) == 0 {
		return status >= 200 && status < 400
	}
	for _, s := range expect {
		if s == status {
			return true
		}
	}
	return false
}

func (h *httpTest) Analyse(*metrics.Snapshot) Findings { return Findings{} }

// ConfigEcho is what the result file echoes of the options: header values
// are redacted (they often carry credentials) and the body is summarised.
func (o *HTTPOptions) ConfigEcho() map[string]any {
	names := make([]string, 0, len(o.Header))
	for k := range o.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	return map[string]any{"method": o.Method, "url": o.URL, "headers": names, "body_bytes": len(o.Body), "expect": o.Expect, "think": o.Think.String()}
}
