//go:build linux

package server

import (
	"net"
	"syscall"
	"unsafe"
)

// sockRoom answers whether a write of n bytes to a TCP socket completes
// without waiting for the peer (see ws_flush.go).
type sockRoom struct {
	rc syscall.RawConn // nil: unknown, never inline
	// sndbuf is SO_SNDBUF, re-read every sndbufRefresh checks (TCP grows
	// it as the connection warms up). Only the holder of the connection's
	// writer slot calls room, so no lock is needed.
	sndbuf int
	checks int
}

// sndbufRefresh is how often room re-reads SO_SNDBUF.
const sndbufRefresh = 64

func newSockRoom(c net.Conn) sockRoom {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return sockRoom{}
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return sockRoom{}
	}
	return sockRoom{rc: rc}
}

// room reports whether n more bytes fit the send buffer with a wide
// margin: a socket's queued bytes are charged with their buffer overhead
// (several times the payload for small segments), so it asks for the
// unsent+unacknowledged bytes to be below 1/8 of SO_SNDBUF and the new
// bytes below 1/4 of it.
func (s *sockRoom) room(n int) bool {
	if s.rc == nil {
		return false
	}
	fits := false
	err := s.rc.Control(func(fd uintptr) {
		if s.checks%sndbufRefresh == 0 {
			v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			if err != nil {
				s.sndbuf = 0
				return
			}
			s.sndbuf = v
		}
		s.checks++
		if n*4 > s.sndbuf {
			return
		}
		var outq int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&outq))); e != 0 {
			return
		}
		fits = int(outq)*8 <= s.sndbuf
	})
	return err == nil && fits
}
