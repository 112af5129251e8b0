//go:build !linux

package h1

import (
	"net"
	"time"
)

// exchange is a Conn's state for the raw exchange, which only Linux has
// (exchange_linux.go): elsewhere every request goes the net.Conn way.
type exchange struct {
	// last is when the last response began to arrive.
	last time.Time
	// rerr is never set here.
	rerr error
}

func (c *Conn) initExchange(net.Conn) {}

func (c *Conn) read(p []byte) (int, error) { return c.nc.Read(p) }

func (c *Conn) sendAndWait(head, body []byte) (n int, handled bool, err error) { return 0, false, nil }
