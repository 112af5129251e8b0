package runner

import (
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A VU's bound dial leaves the port to connect (IP_BIND_ADDRESS_NO_PORT);
// a dial without --local-ips is left as it was.
func TestLocalIPsDialLeavesThePortToConnect(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pool, err := ParseLocalIPs("127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Client
		want int
	}{
		{"--local-ips", NewClient(ClientOptions{LocalIPs: pool}), 1},
		{"no --local-ips", NewClient(ClientOptions{}), 0},
	} {
		conn, err := tc.c.dialerFor(0).Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		raw, err := conn.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var got int
		var gerr error
		if err := raw.Control(func(fd uintptr) {
			got, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT)
		}); err != nil || gerr != nil {
			t.Fatalf("%s: getsockopt: %v %v", tc.name, err, gerr)
		}
		conn.Close()
		if got != tc.want {
			t.Errorf("%s: IP_BIND_ADDRESS_NO_PORT = %d, want %d", tc.name, got, tc.want)
		}
	}
}
