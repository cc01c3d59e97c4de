package replication

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeReads is a ReadIndex that blocks until released, recording when
// each call started (a sequence number) for the coalescing rule.
type fakeReads struct {
	mu      sync.Mutex
	seq     int
	started []int // sequence number at each call's start
	release chan error
}

func newFakeReads() *fakeReads { return &fakeReads{release: make(chan error)} }

func (f *fakeReads) tick() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.seq
}

func (f *fakeReads) run(ctx context.Context, shard uint64) error {
	f.mu.Lock()
	f.seq++
	f.started = append(f.started, f.seq)
	f.mu.Unlock()
	select {
	case err := <-f.release:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeReads) calls() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.started...)
}

// waitCalls waits until n ReadIndex calls have started.
func waitCalls(t *testing.T, f *fakeReads, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.calls()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d ReadIndex calls started, want %d", len(f.calls()), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitJoined waits until shard has a waiting batch (a request joined it).
func waitJoined(t *testing.T, c *readCoalescer, shard uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		ok := c.shards[shard] != nil && c.shards[shard].next != nil
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no request joined the waiting batch")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReadCoalescerStartsAfterArrival: a request that arrives while a
// ReadIndex is in flight never shares that one; it waits for the next,
// which starts after it arrived. Requests that arrive during one flight
// share the next ReadIndex, so three concurrent readers cost two calls.
func TestReadCoalescerStartsAfterArrival(t *testing.T) {
	f := newFakeReads()
	c := newReadCoalescer(context.Background(), f.run)
	defer c.wait()
	ctx := context.Background()

	first := make(chan error, 1)
	go func() { first <- c.read(ctx, 7) }()
	waitCalls(t, f, 1)

	// Two requests arrive while the first ReadIndex is in flight.
	var arrived [2]int
	late := make(chan error, 2)
	for i := range 2 {
		arrived[i] = f.tick()
		go func() { late <- c.read(ctx, 7) }()
	}
	waitJoined(t, c, 7)
	time.Sleep(10 * time.Millisecond) // let the second one join too

	f.release <- nil // the first ReadIndex completes
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-late:
		t.Fatalf("a request that arrived during the first ReadIndex returned with it (%v)", err)
	case <-time.After(20 * time.Millisecond):
	}
	waitCalls(t, f, 2)
	calls := f.calls()
	for _, a := range arrived {
		if calls[1] <= a {
			t.Fatalf("second ReadIndex started at %d, before a request that arrived at %d", calls[1], a)
		}
	}
	f.release <- nil
	for range 2 {
		if err := <-late; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.calls()); n != 2 {
		t.Fatalf("%d ReadIndex calls for three readers in two waves, want 2", n)
	}
	if c.startedCount() != 2 {
		t.Fatalf("startedCount %d, want 2", c.startedCount())
	}
}

// TestReadCoalescerShardsIndependent: shards do not wait for each other;
// readAll runs one ReadIndex per shard in parallel and reports a failure
// of any of them.
func TestReadCoalescerShardsIndependent(t *testing.T) {
	f := newFakeReads()
	c := newReadCoalescer(context.Background(), f.run)
	defer c.wait()
	ctx := context.Background()
	errs := make(chan error, 2)
	go func() { errs <- c.read(ctx, 1) }()
	go func() { errs <- c.read(ctx, 2) }()
	waitCalls(t, f, 2)
	f.release <- nil
	f.release <- nil
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("no quorum")
	all := make(chan error, 1)
	go func() { all <- c.readAll(ctx, []uint64{4, 5, 6}) }()
	waitCalls(t, f, 5) // three shards at once
	f.release <- nil
	f.release <- boom
	f.release <- nil
	if err := <-all; !errors.Is(err, boom) {
		t.Fatalf("readAll: %v, want the failing shard's error", err)
	}
}

// TestReadCoalescerErrorAndCancel: every member of a batch gets its
// ReadIndex's error; a caller whose context ends returns at once without
// failing the batch it joined; the next request starts a fresh ReadIndex.
func TestReadCoalescerErrorAndCancel(t *testing.T) {
	f := newFakeReads()
	c := newReadCoalescer(context.Background(), f.run)
	defer c.wait()
	ctx := context.Background()
	boom := errors.New("no quorum")

	cctx, cancel := context.WithCancel(ctx)
	gone := make(chan error, 1)
	go func() { gone <- c.read(cctx, 3) }()
	waitCalls(t, f, 1)
	stay := make(chan error, 1)
	go func() { stay <- c.read(ctx, 3) }()
	waitJoined(t, c, 3)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	f.release <- boom // the first ReadIndex fails; its (gone) caller is not waiting
	waitCalls(t, f, 2)
	f.release <- boom
	if err := <-stay; !errors.Is(err, boom) {
		t.Fatalf("batch member got %v, want the ReadIndex's error", err)
	}
	// Nothing is left in flight: a new request starts a new ReadIndex.
	again := make(chan error, 1)
	go func() { again <- c.read(ctx, 3) }()
	waitCalls(t, f, 3)
	f.release <- nil
	if err := <-again; err != nil {
		t.Fatal(err)
	}
}

// TestReadCoalescerHostContext: the shared ReadIndex runs on the Host's
// context, so closing the Host ends it and wait returns.
func TestReadCoalescerHostContext(t *testing.T) {
	f := newFakeReads()
	life, stop := context.WithCancel(context.Background())
	c := newReadCoalescer(life, f.run)
	errc := make(chan error, 1)
	go func() { errc <- c.read(context.Background(), 9) }()
	waitCalls(t, f, 1)
	stop()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("read after the Host closed: %v", err)
	}
	c.wait()
}
