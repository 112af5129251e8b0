package runner

// Source addresses (--local-ips): the pool of local addresses VUs dial from,
// so one machine opens more connections to one target than the ephemeral
// ports of a single source address allow.

import (
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"strings"
)

// MaxLocalIPs bounds the addresses of a LocalIPs pool.
const MaxLocalIPs = 1 << 20

// LocalIPs is a pool of local source addresses, k6's --local-ips: a comma
// list of addresses ("127.0.0.2"), inclusive ranges ("127.0.0.2-127.0.0.9")
// and CIDRs ("127.0.1.0/24"; an IPv4 network larger than /31 leaves out its
// network and broadcast addresses, as k6 does). The addresses are numbered
// in the order written; this process's i-th VU (from 0: with no segment, the
// VU with id i+1) dials from Addr(i), round-robin over the pool.
type LocalIPs struct {
	blocks []ipBlock
	n      int
}

// ipBlock is n consecutive addresses from first, as written in text.
type ipBlock struct {
	first netip.Addr
	n     int
	text  string
}

// ParseLocalIPs parses a --local-ips list. Every problem is one error
// (joined; each names its entry, quoted): a malformed entry, a range whose start is after its end or whose
// ends differ in family, an address that is not unicast, more than
// MaxLocalIPs addresses (an entry's or all of them). With an error it
// still returns the pool of the entries that parsed (nil when none did),
// so a caller can check them further.
func ParseLocalIPs(s string) (*LocalIPs, error) {
	var errs []error
	p := &LocalIPs{}
	for _, text := range strings.Split(s, ",") {
		text = strings.TrimSpace(text)
		b, err := parseIPBlock(text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.blocks = append(p.blocks, b)
		p.n += b.n
		if p.n > MaxLocalIPs {
			p.n = MaxLocalIPs + 1 // an overflow stays an overflow
		}
	}
	if p.n > MaxLocalIPs {
		errs = append(errs, fmt.Errorf("%q: more than %d addresses in all", s, MaxLocalIPs))
	}
	if p.n == 0 {
		p = nil
	}
	return p, errors.Join(errs...)
}

func parseIPBlock(text string) (ipBlock, error) {
	bad := func(format string, args ...any) (ipBlock, error) {
		return ipBlock{}, fmt.Errorf("%q: "+format, append([]any{text}, args...)...)
	}
	if text == "" {
		return bad("an empty entry (want an IP, a range a-b or a CIDR)")
	}
	b := ipBlock{text: text}
	if lo, hi, ok := strings.Cut(text, "-"); ok {
		first, err1 := netip.ParseAddr(strings.TrimSpace(lo))
		last, err2 := netip.ParseAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil {
			return bad("not a range of two IP addresses (e.g. 127.0.0.2-127.0.0.9)")
		}
		first, last = first.Unmap(), last.Unmap()
		if first.Is4() != last.Is4() {
			return bad("the range mixes IPv4 and IPv6")
		}
		if first.Compare(last) > 0 {
			return bad("the range's start is after its end")
		}
		n, ok := addrDistance(first, last)
		if !ok || n >= MaxLocalIPs {
			return bad("more than %d addresses", MaxLocalIPs)
		}
		b.first, b.n = first, int(n)+1
	} else if strings.Contains(text, "/") {
		pfx, err := netip.ParsePrefix(text)
		if err != nil {
			return bad("not a CIDR (e.g. 127.0.1.0/24)")
		}
		pfx = pfx.Masked()
		hostBits := pfx.Addr().BitLen() - pfx.Bits()
		if hostBits > 20 {
			return bad("more than %d addresses", MaxLocalIPs)
		}
		b.first, b.n = pfx.Addr(), 1<<hostBits
		if pfx.Addr().Is4() && b.n > 2 {
			b.first, b.n = b.first.Next(), b.n-2
		}
	} else {
		a, err := netip.ParseAddr(text)
		if err != nil {
			return bad("not an IP address, a range a-b or a CIDR")
		}
		b.first, b.n = a.Unmap(), 1
	}
	if !unicast(b.first) || !unicast(b.at(b.n-1)) {
		return bad("not a unicast address")
	}
	return b, nil
}

// unicast: an address a socket can be bound to as a source.
func unicast(a netip.Addr) bool {
	return !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// addrDistance is last - first (same family, first ≤ last), ok when it fits
// in 64 bits.
func addrDistance(first, last netip.Addr) (uint64, bool) {
	f, l := first.As16(), last.As16()
	fhi, flo := be64(f[:8]), be64(f[8:])
	lhi, llo := be64(l[:8]), be64(l[8:])
	lo, borrow := bits.Sub64(llo, flo, 0)
	hi, _ := bits.Sub64(lhi, fhi, borrow)
	return lo, hi == 0
}

// at is the block's i-th address (0 ≤ i < n).
func (b ipBlock) at(i int) netip.Addr {
	a := b.first.As16()
	hi, lo := be64(a[:8]), be64(a[8:])
	lo, carry := bits.Add64(lo, uint64(i), 0)
	hi += carry
	for k := range 8 {
		a[k] = byte(hi >> (56 - 8*k))
		a[8+k] = byte(lo >> (56 - 8*k))
	}
	out := netip.AddrFrom16(a)
	if b.first.Is4() {
		out = out.Unmap()
	}
	return out.WithZone(b.first.Zone())
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// Len is the number of addresses in the pool.
func (p *LocalIPs) Len() int { return p.n }

// Addr is the address of this process's i-th VU (from 0): the pool's
// (i mod Len)-th address.
func (p *LocalIPs) Addr(i int) netip.Addr {
	i %= p.n
	for _, b := range p.blocks {
		if i < b.n {
			return b.at(i)
		}
		i -= b.n
	}
	panic("unreachable: i < p.n")
}

// OtherFamily returns the entries whose family differs from target's, an
// IP address a run dials (a host name is dialled with addresses of the
// source address's family).
func (p *LocalIPs) OtherFamily(target netip.Addr) []string {
	var out []string
	for _, b := range p.blocks {
		if b.first.Is4() != target.Unmap().Is4() {
			out = append(out, b.text)
		}
	}
	return out
}

// dialerFor is the dialer of this process's i-th VU (from 0): bound to its
// --local-ips address, or the client's own dialer without a pool. A nil
// client (a VU that sends nothing) has none.
func (c *Client) dialerFor(i int) *net.Dialer {
	if c == nil {
		return nil
	}
	if c.local == nil {
		return c.dialer
	}
	k := i % c.local.Len()
	c.dialersMu.Lock()
	defer c.dialersMu.Unlock()
	d, ok := c.dialers[k]
	if !ok {
		d = c.newDialer()
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(c.local.Addr(k), 0))
		d.Control = bindNoPort
		c.dialers[k] = d
	}
	return d
}

// useSlot makes vu dial as this process's i-th VU (from 0).
func (vu *VU) useSlot(i int) { vu.dialer = vu.client.dialerFor(i) }

// netDialer is the dialer of vu's connections: its slot's, else the
// client's (a VU made outside an engine dials like the first).
func (vu *VU) netDialer() *net.Dialer {
	if vu.dialer != nil {
		return vu.dialer
	}
	return vu.client.dialer
}

// CheckLocalIPs binds, port 0, each --local-ips address the run's VUs will
// dial from (at most one per VU), so an address that is not this host's is
// reported before the test, not as failed requests. nil without a pool.
func (c *Client) CheckLocalIPs() error {
	if c.local == nil {
		return nil
	}
	for i := range min(c.local.Len(), c.maxVUs) {
		a := c.local.Addr(i)
		pc, err := net.ListenPacket("udp", netip.AddrPortFrom(a, 0).String())
		if err != nil {
			var se *os.SyscallError
			if errors.As(err, &se) {
				err = se
			}
			return fmt.Errorf("--local-ips: %s is not an address of this host (%v)", a, err)
		}
		_ = pc.Close()
	}
	return nil
}
