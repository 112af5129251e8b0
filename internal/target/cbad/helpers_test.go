package cbad

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"
)

// logGen makes realistic ~200-byte JSON log events from a small vocabulary.
type logGen struct {
	r         *rand.Rand
	base      time.Time
	monotonic bool // timestamps increase from event to event, as in a real log
}

func newLogGen(seed uint64) *logGen {
	return &logGen{
		r:    rand.New(rand.NewPCG(seed, 0x5eed)),
		base: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	}
}

var (
	genLevels   = []string{"INFO", "INFO", "INFO", "INFO", "WARN", "DEBUG"}
	genServices = []string{"api-gateway", "billing", "auth", "search"}
	genMethods  = []string{"GET", "GET", "GET", "POST", "PUT"}
	genPaths    = []string{"/v1/users/%d", "/v1/orders/%d", "/v1/search?q=item%d", "/v1/sessions/%d"}
	genMessages = []string{"request completed", "cache hit", "cache miss, loaded from db", "upstream responded", "token refreshed"}
	genStatuses = []int{200, 200, 200, 200, 201, 204, 304, 404}
)

// normal returns one normal event. Its timestamp is drawn at random within
// an hour rather than increasing: see TestNormalStreamQuiet for why.
func (g *logGen) normal() []byte {
	ts := g.base.Add(time.Duration(g.r.IntN(3_600_000)) * time.Millisecond)
	if g.monotonic {
		g.base = g.base.Add(time.Duration(1+g.r.IntN(250)) * time.Millisecond)
		ts = g.base
	}
	pick := func(s []string) string { return s[g.r.IntN(len(s))] }
	return fmt.Appendf(nil,
		`{"timestamp":%q,"level":%q,"service":%q,"request_id":"%08x","method":%q,"path":%q,"status":%d,"latency_ms":%d,"message":%q}`,
		ts.Format(time.RFC3339Nano), pick(genLevels), pick(genServices), g.r.Uint32(), pick(genMethods),
		fmt.Sprintf(pick(genPaths), g.r.IntN(10000)), genStatuses[g.r.IntN(len(genStatuses))], 1+g.r.IntN(300), pick(genMessages))
}

// anomalous returns an event with a different structure and a long random payload.
func (g *logGen) anomalous() []byte {
	buf := make([]byte, 160)
	for i := range buf {
		buf[i] = byte(g.r.Uint32())
	}
	return fmt.Appendf(nil, `{"dump":%q,"code":%d,"trace":[%d,%d]}`, hex.EncodeToString(buf), g.r.Int64(), g.r.Int64(), g.r.Int64())
}

func (g *logGen) normals(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.normal()
	}
	return out
}

func (g *logGen) anomalies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = g.anomalous()
	}
	return out
}

// profile returns a named profile or panics.
func mustProfile(name string) Params {
	p, ok := Profile(name)
	if !ok {
		panic("unknown profile " + name)
	}
	return p
}

// warmDetector returns a ready detector for p fed with normal events from g.
func warmDetector(p Params, seed uint64, g *logGen) *Detector {
	d, err := NewDetector(p, seed)
	if err != nil {
		panic(err)
	}
	d.Ingest(g.normals(p.BaselineSize + p.WindowSize + p.HopSize))
	return d
}
