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
	// unsent bounds the bytes in the send queue from above: the last
	// TIOCOUTQ reading plus every byte room has approved since (the queue
	// only shrinks as the peer reads). While it is low enough, room
	// answers without a syscall; -1 means unknown. Any refusal resets it,
	// because the writer goroutine that then takes the frames writes
	// without asking room.
	unsent int
	// ioctls counts TIOCOUTQ queries (tests).
	ioctls int
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
	return sockRoom{rc: rc, unsent: -1}
}

// room reports whether n more bytes fit the send buffer with a wide
// margin: a socket's queued bytes are charged with their buffer overhead
// (several times the payload for small segments), so it asks for the
// unsent+unacknowledged bytes to be below 1/8 of SO_SNDBUF and the new
// bytes below 1/4 of it. A yes is a promise that the caller writes the n
// bytes; while the bytes approved since the last reading keep the bound on
// the queue low, it answers without asking the kernel (sitting G in
// docs/benchmarks.md: the ioctl was 4-8% of the server's CPU at fan-out).
func (s *sockRoom) room(n int) bool {
	if s.rc == nil {
		return false
	}
	if s.checks%sndbufRefresh != 0 && s.unsent >= 0 && n*4 <= s.sndbuf && s.unsent*8 <= s.sndbuf {
		s.checks++
		s.unsent += n
		return true
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
		s.ioctls++
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&outq))); e != 0 {
			return
		}
		fits = int(outq)*8 <= s.sndbuf
		if fits {
			s.unsent = int(outq) + n
		}
	})
	if err != nil || !fits {
		s.unsent = -1
		return false
	}
	return true
}

// congested reports whether the socket's send queue is known to hold
// more than 1/8 of SO_SNDBUF (the bound room uses): the client is not
// keeping up, so the writer should take little at a time (take). It
// costs a syscall only when room's running bound cannot answer.
func (s *sockRoom) congested() bool {
	if s.rc == nil {
		return false
	}
	if s.unsent >= 0 && s.sndbuf > 0 && s.unsent*8 <= s.sndbuf {
		return false
	}
	busy := false
	_ = s.rc.Control(func(fd uintptr) {
		if s.sndbuf == 0 {
			v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			if err != nil {
				return
			}
			s.sndbuf = v
		}
		var outq int32
		s.ioctls++
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&outq))); e != 0 {
			return
		}
		busy = int(outq)*8 > s.sndbuf
		if !busy {
			s.unsent = int(outq)
		}
	})
	return busy
}

// setSendBuffer fixes the kernel send buffer of a WebSocket's TCP socket
// at n bytes (the kernel doubles it for bookkeeping). Without it Linux
// grows the buffer up to net.ipv4.tcp_wmem's maximum (4 MiB by default)
// for a client that stopped reading, and that kernel memory is charged to
// the pod's cgroup outside any budget of ours: 200 stalled clients could
// hold 800 MiB there. n <= 0 keeps the kernel's autotuning.
func setSendBuffer(c net.Conn, n int) {
	tc, ok := c.(*net.TCPConn)
	if !ok || n <= 0 {
		return
	}
	_ = tc.SetWriteBuffer(n)
}

// sendQueueProbe returns a function reporting the bytes the kernel holds
// in c's send queue that the peer has not acknowledged (TIOCOUTQ), or -1
// when unknown; nil for a connection that is not TCP. The node's queue
// budget asks it when it must shed (live.Outbox.SetSendQueue): a queue
// that stays full is a client that does not read.
func sendQueueProbe(c net.Conn) func() int {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() int {
		n := -1
		_ = rc.Control(func(fd uintptr) {
			var outq int32
			if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&outq))); e == 0 {
				n = int(outq)
			}
		})
		return n
	}
}
