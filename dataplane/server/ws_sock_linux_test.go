//go:build linux

package server

import (
	"net"
	"testing"
	"time"
)

// TestSockRoom checks the flushers' guard against blocking: a socket with
// an empty send queue has room for a small write, and one whose peer
// stopped reading (send queue backed up) has none, so its writes go to a
// writer goroutine of their own.
func TestSockRoom(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close() // never reads: the server's send queue fills
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	defer srv.Close()
	s := newSockRoom(srv)
	if s.congested() {
		t.Fatal("congested() = true on an empty send queue")
	}
	s.ioctls = 0
	// Approved writes are charged to the bound, so small writes in a row
	// ask the kernel once.
	for i := range 3 {
		if !s.room(200) {
			t.Fatalf("room(200) #%d = false on an empty queue", i)
		}
	}
	if s.ioctls != 1 {
		t.Errorf("three small approved writes queried TIOCOUTQ %d times, want 1", s.ioctls)
	}
	if _, err := srv.Write(make([]byte, 600)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		n    int
		want bool
	}{
		{"small write, empty queue", 512, true},
		{"write larger than the buffer allows", 1 << 20, false},
	} {
		if got := s.room(tc.n); got != tc.want {
			t.Errorf("%s: room(%d) = %v, want %v", tc.name, tc.n, got, tc.want)
		}
	}
	// Fill the socket until a write would block (bounded by a deadline).
	_ = srv.SetWriteDeadline(time.Now().Add(2 * time.Second))
	chunk := make([]byte, 64<<10)
	for i := 0; i < 1000; i++ {
		if _, err := srv.Write(chunk); err != nil {
			break
		}
	}
	// The refusal above (the large write) forgot the bound, so this asks
	// the kernel again and sees the full queue.
	if s.room(512) {
		t.Error("room(512) = true on a socket whose peer does not read")
	}
	// A writer takes little from a backed-up socket (takeMaxBytes vs
	// congestedTakeBytes).
	if !s.congested() {
		t.Error("congested() = false on a socket whose peer does not read")
	}
	if s.unsent != -1 {
		t.Errorf("bound after a refusal = %d, want -1 (unknown)", s.unsent)
	}
	if (&sockRoom{}).congested() {
		t.Error("a connection without a socket is never known to be congested")
	}
	if (&sockRoom{}).room(1) {
		t.Error("a connection without a socket must never be written inline")
	}
}
