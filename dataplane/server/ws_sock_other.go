//go:build !linux

package server

import "net"

// sockRoom is only implemented on Linux; elsewhere every connection writes
// from its own writer goroutine.
type sockRoom struct{}

func newSockRoom(net.Conn) sockRoom { return sockRoom{} }

func (*sockRoom) room(int) bool { return false }

// congested is unknown elsewhere: writers take the usual amount.
func (*sockRoom) congested() bool { return false }

// setSendBuffer fixes the socket's send buffer (ws_sock_linux.go).
func setSendBuffer(c net.Conn, n int) {
	if tc, ok := c.(*net.TCPConn); ok && n > 0 {
		_ = tc.SetWriteBuffer(n)
	}
}

// sendQueueProbe is only implemented on Linux (ws_sock_linux.go).
func sendQueueProbe(net.Conn) func() int { return nil }
