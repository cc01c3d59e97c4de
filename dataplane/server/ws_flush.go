package server

import (
	"bufio"
	"net"
	"net/http"
	"runtime"
	"sync"
)

// Fan-out writing (docs/benchmarks.md, "Live queries", sitting E).
//
// A change reaching 1,000 connections used to start 1,000 writer
// goroutines at once. They all became runnable together, so the HTTP
// handler of the next INSERT (readied by the network poller, queued behind
// them) waited for the whole burst, and each connection's write carried
// one change: one frame, one write syscall and one client wake-up per
// delivery.
//
// Now a connection with something to write joins a FIFO ready list served
// by at most maxFlushers() short-lived flusher goroutines, which write each
// connection's queued frames inline, one connection after the other. While
// a connection waits its turn, further changes merge into its outbox (one
// frame carries several rows), so under load the cost per delivery falls on
// both ends, and the number of runnable goroutines stays bounded, so the
// write path is not starved. With an idle server the first flusher starts
// at once: the latency is that of the former writer goroutine.
//
// A flusher must never block on one slow client. It writes inline only
// when the kernel send queue of the socket is known to have room for the
// frames (sockRoom: unsent bytes from TIOCOUTQ against SO_SNDBUF; a write
// that fits the send buffer completes without waiting for the peer).
// Otherwise, and for closing handshakes, TLS or non-TCP connections, the
// connection gets its own writer goroutine (writeRun) as before, which may
// block until write_timeout.

// Why one processor is left to the rest of the server: a flusher is a
// tight loop of write syscalls that return at once, so the processor
// (Go's P) it runs on never enters the scheduler, and the network poller
// is consulted only by a processor that runs out of work (or by sysmon,
// every 10 ms). With every P flushing, the next INSERT's request sat in
// the kernel until a flusher was preempted: its acknowledgement took
// 12 ms during a 1,000-connection fan-out, the serial writer slowed down,
// and each connection was written once per change (1.1 changes per frame).
// With one P left idle its thread blocks in the poller, the request is
// served at once, changes arrive while connections still wait their turn
// and merge into their frames (1.9 per frame), which cut the CPU per
// delivery by ~35% on both ends and raised the saturation rate from ~80k
// to ~110k deliveries/s (sitting H, docs/benchmarks.md).

// maxFlushers bounds the goroutines writing ready connections inline:
// one per processor but one, and at least one.
func maxFlushers() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// inlineMaxWrites bounds the connections an inline dispatch writes on
// the committing goroutine (live's inline dispatch reaches at most 32).
const inlineMaxWrites = 32

// flushSet is the ready list of connections waiting for a flusher.
type flushSet struct {
	// max is maxFlushers(), read once when the server is set up
	// (SetLive): GOMAXPROCS takes the scheduler lock.
	max      int
	mu       sync.Mutex
	ready    []*wsConn
	head     int
	flushers int
	// inline counts inline dispatches in progress: their goroutines write
	// what they queued (endInline), so add starts no flusher meanwhile.
	inline int
}

// add queues wc (its writer slot is already held) and starts a flusher
// unless enough run or an inline dispatch will write it.
func (f *flushSet) add(wc *wsConn) {
	f.mu.Lock()
	f.ready = append(f.ready, wc)
	start := f.inline == 0 && f.flushers < f.max
	if start {
		f.flushers++
	}
	f.mu.Unlock()
	if start {
		go f.run()
	}
}

// beginInline marks an inline dispatch (live.InlineWriter.Begin).
func (f *flushSet) beginInline() {
	f.mu.Lock()
	f.inline++
	f.mu.Unlock()
}

// endInline writes up to inlineMaxWrites ready connections on the calling
// (committing) goroutine, only where the socket takes the frames at once
// (flushOnce hands anything else to a writer goroutine), then starts a
// flusher for whatever is left.
func (f *flushSet) endInline() {
	var wb *writeBuf
	for range inlineMaxWrites {
		f.mu.Lock()
		if f.head == len(f.ready) {
			f.mu.Unlock()
			break
		}
		wc := f.ready[f.head]
		f.ready[f.head] = nil
		f.head++
		if f.head == len(f.ready) {
			f.ready, f.head = f.ready[:0], 0
		}
		f.mu.Unlock()
		if wb == nil {
			wb = writeBufPool.Get().(*writeBuf)
		}
		wc.flushOnce(wb)
	}
	if wb != nil {
		putWriteBuf(wb)
	}
	f.mu.Lock()
	f.inline--
	start := f.head < len(f.ready) && f.flushers < f.max
	if start {
		f.flushers++
	}
	f.mu.Unlock()
	if start {
		go f.run()
	}
}

// next pops the oldest ready connection; nil (and the flusher retires)
// when none is left.
func (f *flushSet) next() *wsConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.head == len(f.ready) {
		f.flushers--
		f.ready, f.head = f.ready[:0], 0
		return nil
	}
	wc := f.ready[f.head]
	f.ready[f.head] = nil
	f.head++
	if f.head == len(f.ready) {
		f.ready, f.head = f.ready[:0], 0
	}
	return wc
}

// run is a flusher: it serves ready connections until there are none.
// Every connection it holds has its writer slot (wsConn.writing, a wg
// count), so the connection's run waits for it like for a writer.
func (f *flushSet) run() {
	wb := writeBufPool.Get().(*writeBuf)
	defer putWriteBuf(wb)
	for wc := f.next(); wc != nil; wc = f.next() {
		wc.flushOnce(wb)
	}
}

// flushOnce writes what wc has queued if the socket has room for it, then
// requeues wc when more arrived meanwhile. Anything that could block (no
// room, a close handshake) moves to a writer goroutine of its own.
func (wc *wsConn) flushOnce(wb *writeBuf) {
	closing, code, reason, ok := wc.take(wb)
	if ok && len(wb.frames) == 0 && !closing {
		wc.releaseOrRequeue()
		return
	}
	// take encoded the frames first: the room check must see the bytes
	// written.
	if ok && (closing || !wc.sock.room(frameBytes(wb.frames))) {
		// Hand the taken frames over: the writer slot goes with them.
		own := writeBufPool.Get().(*writeBuf)
		own.frames = append(own.frames[:0], wb.frames...)
		own.bin = append(own.bin[:0], wb.bin...)
		own.arena, wb.arena = wb.arena, own.arena
		own.mp, wb.mp = wb.mp, own.mp
		clear(wb.frames)
		wb.frames = wb.frames[:0]
		go wc.writeRun(own, closing, code, reason)
		return
	}
	if ok {
		ok = wc.write(wb)
	}
	clear(wb.frames)
	wb.frames = wb.frames[:0]
	if !ok {
		wc.finishWriter()
		wc.c.CloseNow()
		wc.wg.Done()
		return
	}
	wc.releaseOrRequeue()
}

// frameBytes bounds what writing frames puts on the wire: each payload
// plus the largest frame header.
func frameBytes(frames [][]byte) int {
	n := 0
	for _, f := range frames {
		n += len(f) + 14
	}
	return n
}

// releaseOrRequeue gives up wc's writer slot, or queues wc again at the
// tail of the ready list when something was pushed since its last Take
// (so one busy connection cannot hold a flusher).
func (wc *wsConn) releaseOrRequeue() {
	wc.wmu.Lock()
	if !wc.pending || wc.stopped {
		wc.writing = false
		wc.wmu.Unlock()
		wc.wg.Done()
		return
	}
	wc.pending = false
	wc.wmu.Unlock()
	wc.st.flush.add(wc)
}

// hijackRecorder remembers the connection a WebSocket upgrade hijacks, so
// the writer can ask the kernel about its send queue (sockRoom).
type hijackRecorder struct {
	http.ResponseWriter
	conn net.Conn
}

// Hijack implements http.Hijacker through the wrapped writer's chain.
func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.conn = c
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
