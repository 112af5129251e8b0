//go:build !linux

package runner

import "syscall"

// bindNoPort is nil outside Linux: a bound dial picks its port at bind.
var bindNoPort func(network, address string, c syscall.RawConn) error
