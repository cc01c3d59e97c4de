//go:build !linux

package server

import "net"

// sockRoom is only implemented on Linux; elsewhere every connection writes
// from its own writer goroutine.
type sockRoom struct{}

func newSockRoom(net.Conn) sockRoom { return sockRoom{} }

func (*sockRoom) room(int) bool { return false }
