//go:build linux

package h1

// The exchange: on a plain TCP connection a request is written with a raw
// write system call from inside the runtime poller's read wait
// (syscall.RawConn.Read), so the goroutine parks on the socket at once and
// reads the response once it is there. A net.Conn write followed by a Read
// costs a read that fails with EAGAIN before every response (the runtime
// must try the read before it may wait: its readiness flag is reset when a
// read starts), and the read and write system calls go through the
// scheduler's syscall bookkeeping, which on an otherwise idle process wakes
// the runtime's monitor thread for every request. Waiting from inside
// RawConn.Read is race-free: the readiness flag is reset before the
// callback runs, and the response cannot arrive before the request is
// written, so its readiness event is never lost.
//
// Anything out of the ordinary leaves the exchange for the net.Conn path,
// which then produces net's own errors: a connection the poller refuses
// (closed, deadline passed) before anything was written, a write that did
// not take the whole request, a wait the deadline or Abort ended. A read
// error the exchange got itself (reset by the peer) is wrapped as net.Conn's
// Read wraps it, since a second read would not see it again.

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// exchangeIdle is the longest a kept connection may have been idle for the
// exchange to be used. A server that closed its end meanwhile (its
// keep-alive timeout) is seen by the read the exchange skips, when the read
// finds the end of the stream before the request's answer; a server that
// closes the socket answers the new request with a reset, which ends the
// wait, but one that only shut down its sending side would leave the wait to
// the deadline. Idle connections therefore go the net.Conn way.
const exchangeIdle = 100 * time.Millisecond

// exchange is a Conn's state for the raw exchange.
type exchange struct {
	raw  syscall.RawConn       // nil: not a plain TCP connection
	step func(fd uintptr) bool // c.exchangeStep, made once
	iov  [2]syscall.Iovec      // what to write: the head, and a large body
	niov int                   // iov entries in use
	size int                   // bytes to write
	// Results: wrote is the bytes written (-1: the callback never ran),
	// werr the write's error, read the bytes read into the read buffer,
	// rerr a read error to report from the next fill.
	wrote int
	werr  error
	read  int
	rerr  error
	// last is when the last response began to arrive.
	last time.Time

	// read's state: the buffer, and what its callback got.
	readStep func(fd uintptr) bool // c.readStep, made once
	p        []byte
	n        int
	err      error
	done     bool
}

// initExchange enables the exchange when nc is a TCP connection.
func (c *Conn) initExchange(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	c.x.raw = raw
	c.x.step = c.exchangeStep
	c.x.readStep = c.readStep
}

// read is c.nc.Read; on plain TCP the read system call goes without the
// scheduler's syscall bookkeeping (inside RawConn.Read, which waits on the
// poller when nothing is there yet). A wait the deadline or Abort ended,
// or a connection the poller refuses, is left to c.nc.Read, which reports
// it as net does.
func (c *Conn) read(p []byte) (int, error) {
	x := &c.x
	if x.raw == nil || len(p) == 0 {
		return c.nc.Read(p)
	}
	x.p, x.n, x.err, x.done = p, 0, nil, false
	err := x.raw.Read(x.readStep)
	x.p = nil
	if err != nil || !x.done {
		return c.nc.Read(p)
	}
	return x.n, x.err
}

// readStep is the callback of read's RawConn.Read.
func (c *Conn) readStep(fd uintptr) bool {
	x := &c.x
	n, again, err := c.readFD(fd, x.p)
	if again {
		return false
	}
	x.n, x.err, x.done = n, err, true
	return true
}

// readFD is one read of the socket for the callbacks: again when nothing
// is there yet, else the bytes read or the error net.Conn's Read returns.
func (c *Conn) readFD(fd uintptr, p []byte) (n int, again bool, err error) {
	n, errno := rawRead(fd, p)
	switch {
	case errno == syscall.EAGAIN:
		return 0, true, nil
	case errno != 0:
		return 0, false, c.opError("read", errno)
	case n == 0:
		return 0, false, io.EOF
	}
	return n, false, nil
}

// sendAndWait writes head and body (nil: none) and waits for the first
// bytes of the answer, reading them into the read buffer; it stamps
// WroteRequest and FirstByte. It returns the bytes written, and the write's
// error; handled is false when the request was not (all) written: the
// caller writes the rest (head and body from byte n on) and reads as usual.
func (c *Conn) sendAndWait(head, body []byte) (n int, handled bool, err error) {
	x := &c.x
	if len(head) == 0 || !c.exchangeable() {
		return 0, false, nil
	}
	c.r, c.w = 0, 0
	x.iov[0] = syscall.Iovec{Base: &head[0]}
	x.iov[0].SetLen(len(head))
	x.niov, x.size = 1, len(head)
	if len(body) > 0 {
		x.iov[1] = syscall.Iovec{Base: &body[0]}
		x.iov[1].SetLen(len(body))
		x.niov, x.size = 2, len(head)+len(body)
	}
	x.wrote, x.werr, x.read, x.rerr = -1, nil, 0, nil
	// An error of the wait itself (deadline, Abort, close) is left to the
	// net.Conn read that follows, which reports it as net does.
	_ = x.raw.Read(x.step)
	x.iov = [2]syscall.Iovec{} // keep no buffer alive
	if x.read > 0 {
		c.w = x.read
		c.count(x.read)
	}
	switch {
	case x.wrote < 0: // refused before the write: the net.Conn path decides
		return 0, false, nil
	case x.werr != nil:
		return 0, true, x.werr
	case x.wrote < x.size:
		return x.wrote, false, nil
	}
	return x.wrote, true, nil
}

// exchangeable reports whether the next request may go through the
// exchange: a plain TCP connection with nothing unread, new or idle for no
// longer than exchangeIdle.
func (c *Conn) exchangeable() bool {
	return c.x.raw != nil && c.r == c.w && !(c.reused && time.Since(c.x.last) > exchangeIdle)
}

// exchangeStep is the callback of the exchange's RawConn.Read: the first
// call writes the request and waits; a later one reads.
func (c *Conn) exchangeStep(fd uintptr) bool {
	x := &c.x
	if x.wrote < 0 {
		n, errno := rawWritev(fd, x.iov[:x.niov])
		switch {
		case errno == syscall.EAGAIN:
			x.wrote = 0
			return true
		case errno != 0:
			x.wrote, x.werr = 0, c.opError("write", errno)
			return true
		}
		x.wrote = n
		c.resp.WroteRequest = time.Now()
		return n < x.size // a partial write: the caller writes the rest
	}
	n, again, err := c.readFD(fd, c.buf)
	switch {
	case again:
		return false
	case err != nil:
		x.rerr = err
	default:
		x.read = n
		c.resp.FirstByte = time.Now()
		x.last = c.resp.FirstByte
	}
	return true
}

// opError is the error net.Conn's Read or Write returns for errno.
func (c *Conn) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: os.NewSyscallError(op, errno)}
}

// rawWritev and rawRead are the system calls without the scheduler's
// syscall bookkeeping: on a non-blocking socket they return at once. EINTR
// is retried, as internal/poll does.
func rawWritev(fd uintptr, iov []syscall.Iovec) (int, syscall.Errno) {
	for {
		var n uintptr
		var errno syscall.Errno
		if len(iov) == 1 {
			n, _, errno = syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(iov[0].Base)), uintptr(iov[0].Len))
		} else {
			n, _, errno = syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		}
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}

func rawRead(fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		if errno != syscall.EINTR {
			return int(n), errno
		}
	}
}
