//go:build unix

package upstream

import (
	"errors"
	"net"
	"syscall"
)

// closedByPeer reports whether nc's peer has closed it (or sent something
// no request asked for), looking without blocking and without consuming.
func closedByPeer(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0: // an answer nobody asked for: not a connection to reuse
			closed = true
		case rerr == nil: // n == 0: end of stream
			closed = true
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EWOULDBLOCK), errors.Is(rerr, syscall.EINTR):
		default:
			closed = true
		}
		return true // never wait for readiness
	})
	return closed || err != nil
}
