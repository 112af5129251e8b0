package runner

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort is the Control of a dialer bound to a --local-ips address: the
// kernel then picks the source port at connect, unique per destination (as
// for an unbound dial), instead of at bind, unique among every socket of the
// address whatever its destination — so one address's ephemeral ports serve
// each target, not all of them together.
func bindNoPort(_, _ string, c syscall.RawConn) error {
	// Best effort: an older kernel binds as before.
	return c.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
}
