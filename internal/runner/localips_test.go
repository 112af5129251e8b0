package runner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestParseLocalIPs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		// want are the pool's addresses in order (the first and last when
		// n is larger than len(want)).
		want []string
		n    int
	}{
		{in: "127.0.0.2", want: []string{"127.0.0.2"}},
		{in: " 127.0.0.2 , 127.0.0.5 ", want: []string{"127.0.0.2", "127.0.0.5"}},
		{in: "127.0.0.2-127.0.0.4", want: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}},
		{in: "127.0.0.9 - 127.0.0.9", want: []string{"127.0.0.9"}},
		{in: "127.0.0.254-127.0.1.1", want: []string{"127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"}},
		// k6: an IPv4 network larger than /31 leaves out its network and
		// broadcast addresses; the address is masked to its network.
		{in: "192.168.220.0/30", want: []string{"192.168.220.1", "192.168.220.2"}},
		{in: "192.168.220.7/29", want: []string{"192.168.220.1", "192.168.220.6"}, n: 6},
		{in: "10.0.0.0/31", want: []string{"10.0.0.0", "10.0.0.1"}},
		{in: "10.0.0.4/32", want: []string{"10.0.0.4"}},
		{in: "192.168.220.1,192.168.0.10-192.168.0.25", want: []string{"192.168.220.1", "192.168.0.25"}, n: 17},
		{in: "127.0.0.0/12", want: []string{"127.0.0.1", "127.15.255.254"}, n: 1<<20 - 2},
		{in: "::1", want: []string{"::1"}},
		{in: "fd00::ffff-fd00::1:1", want: []string{"fd00::ffff", "fd00::1:0", "fd00::1:1"}},
		{in: "fd00::ffff:ffff:ffff:ffff-fd00:0:0:1::", want: []string{"fd00::ffff:ffff:ffff:ffff", "fd00:0:0:1::"}},
		{in: "fd00::/126", want: []string{"fd00::", "fd00::1", "fd00::2", "fd00::3"}},
		{in: "fe80::1%lo", want: []string{"fe80::1%lo"}},
		{in: "::ffff:127.0.0.2-127.0.0.3", want: []string{"127.0.0.2", "127.0.0.3"}},
	} {
		p, err := ParseLocalIPs(tc.in)
		if err != nil {
			t.Errorf("ParseLocalIPs(%q): %v", tc.in, err)
			continue
		}
		n := tc.n
		if n == 0 {
			n = len(tc.want)
		}
		if p.Len() != n {
			t.Errorf("ParseLocalIPs(%q).Len() = %d, want %d", tc.in, p.Len(), n)
			continue
		}
		var got []string
		if n == len(tc.want) {
			for i := range n {
				got = append(got, p.Addr(i).String())
			}
		} else {
			got = []string{p.Addr(0).String(), p.Addr(n - 1).String()}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("ParseLocalIPs(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseLocalIPsRefusesBadEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", `"": an empty entry`},
		{"127.0.0.2,", `"": an empty entry`},
		{"localhost", `"localhost": not an IP address, a range a-b or a CIDR`},
		{"127.0.0.256", `"127.0.0.256": not an IP address`},
		{"127.0.0.2:80", `"127.0.0.2:80": not an IP address`},
		{"127.0.0.2-", `"127.0.0.2-": not a range of two IP addresses`},
		{"127.0.0.2-x", `"127.0.0.2-x": not a range of two IP addresses`},
		{"127.0.0.2-127.0.0.3-127.0.0.4", `not a range of two IP addresses`},
		{"127.0.0.9-127.0.0.3", `"127.0.0.9-127.0.0.3": the range's start is after its end`},
		{"127.0.0.1-::1", `"127.0.0.1-::1": the range mixes IPv4 and IPv6`},
		{"127.0.0.0/33", `"127.0.0.0/33": not a CIDR`},
		{"127.0.0.0/x", `"127.0.0.0/x": not a CIDR`},
		{"10.0.0.0/8", `"10.0.0.0/8": more than 1048576 addresses`},
		{"fd00::/64", `"fd00::/64": more than 1048576 addresses`},
		{"fd00::-fd00::1:0:0", `"fd00::-fd00::1:0:0": more than 1048576 addresses`},
		{"fd00::-fd01::", `"fd00::-fd01::": more than 1048576 addresses`},
		{"10.0.0.0-10.16.0.0", `"10.0.0.0-10.16.0.0": more than 1048576 addresses`},
		{"10.0.0.0/12,10.16.0.0/12", `"10.0.0.0/12,10.16.0.0/12": more than 1048576 addresses in all`},
		{"0.0.0.0", `"0.0.0.0": not a unicast address`},
		{"::", `"::": not a unicast address`},
		{"224.0.0.1", `"224.0.0.1": not a unicast address`},
		{"223.255.255.255-224.0.0.0", `not a unicast address`},
		{"255.255.255.255", `not a unicast address`},
		{"ff02::1", `"ff02::1": not a unicast address`},
	} {
		p, err := ParseLocalIPs(tc.in)
		if err == nil {
			t.Errorf("ParseLocalIPs(%q) = %d addresses, want an error %q", tc.in, p.Len(), tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseLocalIPs(%q): %q, want it to say %q", tc.in, err, tc.want)
		}
	}
}

// Every bad entry is its own error, and the entries that parsed still form
// a pool the caller can check further.
func TestParseLocalIPsReportsEveryBadEntry(t *testing.T) {
	t.Parallel()
	p, err := ParseLocalIPs("x,127.0.0.2,127.0.0.5-127.0.0.4,::1")
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 2 {
		t.Fatalf("err = %v, want two joined errors", err)
	}
	if p == nil || p.Len() != 2 || p.Addr(0).String() != "127.0.0.2" || p.Addr(1).String() != "::1" {
		t.Fatalf("pool of the good entries = %v", p)
	}
	if got := p.OtherFamily(netip.MustParseAddr("127.0.0.1")); len(got) != 1 || got[0] != "::1" {
		t.Fatalf("OtherFamily(127.0.0.1) = %v, want [::1]", got)
	}
	if got := p.OtherFamily(netip.MustParseAddr("::1")); len(got) != 1 || got[0] != "127.0.0.2" {
		t.Fatalf("OtherFamily(::1) = %v, want [127.0.0.2]", got)
	}
}

func TestLocalIPsAddrIsRoundRobin(t *testing.T) {
	t.Parallel()
	p, err := ParseLocalIPs("127.0.0.2-127.0.0.3,127.0.0.9")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.9", "127.0.0.2", "127.0.0.3", "127.0.0.9", "127.0.0.2"}
	for i, w := range want {
		if got := p.Addr(i).String(); got != w {
			t.Errorf("Addr(%d) = %s, want %s", i, got, w)
		}
	}
}

// connLog is a loopback server that records, per request, the sending
// VU's id (header X-VU) and the connection's source address.
type connLog struct {
	mu   sync.Mutex
	byVU map[int]map[string]bool
}

func newConnLog(t *testing.T) (*connLog, string) {
	l := &connLog{byVU: map[int]map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.Header.Get("X-VU"))
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		l.mu.Lock()
		if l.byVU[id] == nil {
			l.byVU[id] = map[string]bool{}
		}
		l.byVU[id][host] = true
		l.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return l, srv.URL
}

// This process's i-th VU dials from the pool's (i mod n)-th address, on
// both paths and in a segment (whose VUs keep their global ids), and the
// pre-flight from the first.
func TestVUsDialFromTheirLocalIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		std     bool
		segment string
	}{
		{name: "fast path"},
		{name: "net/http", std: true},
		{name: "fast path, segment 1/2", segment: "1/2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			log, url := newConnLog(t)
			pool, err := ParseLocalIPs("127.0.0.2-127.0.0.4")
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture()
			f.client = NewClient(ClientOptions{LocalIPs: pool, MaxVUs: 5, NoFastPath: tc.std})
			defer f.client.Close()
			if err := f.client.CheckLocalIPs(); err != nil {
				t.Fatal(err)
			}
			var seg *ExecutionSegment
			if tc.segment != "" {
				if seg, err = ParseSegmentShorthand(tc.segment); err != nil {
					t.Fatal(err)
				}
			}
			header := func(id int) http.Header { return http.Header{"X-Vu": {strconv.Itoa(id)}} }
			if r := NewVU(0, 1, f.client, f.reg, f.b).Do(context.Background(), &Request{Method: "GET", URL: url, Header: header(0)}); r.Err != nil {
				t.Fatal(r.Err)
			}
			opts := f.opts(NewPerVUIterations(10, 3), func(ctx context.Context, vu *VU) {
				if r := vu.Do(ctx, &Request{Method: "GET", URL: url, Header: header(vu.ID)}); r.Err != nil {
					t.Errorf("VU %d: %v", vu.ID, r.Err)
				}
			})
			opts.Segment = seg
			if _, err := Run(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			if got := fmt.Sprint(log.byVU[0]); got != "map[127.0.0.2:true]" {
				t.Errorf("a VU made outside an engine (the pre-flight's address) dialled from %s, want 127.0.0.2", got)
			}
			plan := seg.Apply(NewPerVUIterations(10, 3).Plan())
			for i := range plan.MaxVUs {
				id := plan.VUID(i)
				want := pool.Addr(i).String()
				got := log.byVU[id]
				if tc.std {
					// net/http's pool lends connections between VUs: each
					// VU's own dial is from its address, so every address
					// is used, but a VU may send on another's connection.
					if !log.anyFrom(want) {
						t.Errorf("no connection from %s (VU %d's address)", want, id)
					}
					continue
				}
				if len(got) != 1 || !got[want] {
					t.Errorf("VU %d (slot %d) dialled from %v, want only %s", id, i, got, want)
				}
			}
		})
	}
}

func (l *connLog) anyFrom(addr string) bool {
	for id, hosts := range l.byVU {
		if id != 0 && hosts[addr] {
			return true
		}
	}
	return false
}

func TestCheckLocalIPsRefusesAnAddressNotOfThisHost(t *testing.T) {
	t.Parallel()
	// 198.51.100.0/24 is TEST-NET-2: never an address of a test machine.
	pool, err := ParseLocalIPs("127.0.0.2,198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	err = NewClient(ClientOptions{LocalIPs: pool, MaxVUs: 2}).CheckLocalIPs()
	if err == nil || err.Error() != "--local-ips: 198.51.100.7 is not an address of this host (bind: cannot assign requested address)" {
		t.Fatalf("CheckLocalIPs = %v", err)
	}
	// One VU only ever dials from the first address: the second is not checked.
	if err := NewClient(ClientOptions{LocalIPs: pool, MaxVUs: 1}).CheckLocalIPs(); err != nil {
		t.Fatalf("CheckLocalIPs with 1 VU = %v, want nil", err)
	}
}
