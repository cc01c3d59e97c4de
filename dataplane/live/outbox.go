package live

import (
	"sync"
	"sync/atomic"
	"time"
)

// outItem is one queued message: either a complete message (raw) or one
// change row for a subscription, encoded lazily into a frame by Take so
// that consecutive changes of one subscription can share a frame.
type outItem struct {
	raw  []byte
	sub  *Subscription
	kind changeKind
	row  []byte // new row object (insert, update); shared between subscribers
	old  []byte // old row object (update delta, delete); shared
	// control: an uncounted message (not charged to the budgets).
	control bool
	// sh, when set, is the reference count of row and old, shared by
	// every queue holding this change (budget.go): the node-wide budget
	// counts them once.
	sh *shared
}

// size is what the item is charged against the byte budgets.
func (it *outItem) size() int { return len(it.raw) + len(it.row) + len(it.old) }

// Merge bounds for one change frame.
const (
	maxMergedRows  = 256
	maxMergedBytes = 256 << 10
)

// Outbox is the bounded queue of messages waiting to be written to one
// WebSocket connection. Producers (dispatch workers, the connection's
// reader) never block on it: a change that does not fit ends its
// subscription with OVERFLOW. Its single consumer is the connection's
// writer goroutine (Take).
//
// Capacity counts messages as they will be framed: consecutive change
// rows of one subscription and kind share a frame (up to maxMergedRows /
// maxMergedBytes), so one multi-row INSERT is one message, not one per
// row. Bytes are bounded too: the bytes queued plus the bytes the writer
// took and has not written yet (in flight) stay under the connection's
// budget (maxBytes; websocket.max_queued_bytes_per_connection once
// attached to a Manager), and under the node's global budget shared by
// every connection (queueBudget). A change row is charged in full to
// every connection that queues it although its bytes are shared between
// them (encoded once per projection and kind in dispatch, and held by
// reference), so one client cannot pin more than its budget. The node's
// budget counts distinct bytes instead: a shared change once, however
// many queues hold it (shared, budget.go), plus each writer's own copy of
// what it has taken and not written yet (in flight; TakeUpTo builds the
// frames in the writer's arena). Memory then grows with distinct events,
// not subscribers x events.
// Errors and other control messages are not counted, so the error that
// reports an overflow always gets queued behind the events already
// accepted; a hard cap on them closes a connection whose client never
// reads at all.
type Outbox struct {
	mu       sync.Mutex
	items    []outItem
	spare    []outItem // the previous items slice, reused by Take
	counted  int
	controls int // uncounted items queued
	bytes    int // queued counted bytes
	inflight int // bytes taken by the writer and not yet written (Sent)
	cap      int
	maxBytes int
	hardCap  int
	// budget is the node-wide budget (nil until attached to a Manager);
	// held mirrors bytes+inflight for lock-free scans (shedding, metrics).
	budget *queueBudget
	held   atomic.Int64
	// drained is when the connection last held nothing or last had
	// frames written (unix ns): a connection holding bytes that has not
	// drained for a while is stalled, and is shed before draining ones.
	drained atomic.Int64
	// writeSince is when the socket write in progress began (unix ns; 0:
	// none): a write that the kernel does not accept for long is the
	// client not reading. Time spent waiting for the server's own
	// writers (a flusher's ready list under CPU load) is not counted.
	writeSince atomic.Int64
	// sendQueue, when set by the transport, reports the bytes the
	// socket's kernel send queue holds unacknowledged (-1: unknown).
	sendQueue atomic.Pointer[func() int]
	// abort is called (without locks) when the outbox is shed, so the
	// connection can be torn down even if its writer is blocked.
	abort  func()
	shed   bool
	wake   chan struct{}
	notify func()
	// The open merge run at the tail (see push).
	runSub   *Subscription
	runKind  changeKind
	runRows  int
	runBytes int
	// closing is set by Close: the writer drains what is queued, then
	// closes the connection with closeCode.
	closing     bool
	closeCode   int
	closeReason string
}

// bytesPerSlot bounds queued bytes per message of capacity (an average
// frame size that real traffic stays far below).
const bytesPerSlot = 16 << 10

// NewOutbox returns an outbox holding up to capacity counted messages
// (and capacity*16 KiB of them) plus up to hardCap control messages.
func NewOutbox(capacity, hardCap int) *Outbox {
	return &Outbox{cap: capacity, maxBytes: capacity * bytesPerSlot, hardCap: hardCap, wake: make(chan struct{}, 1)}
}

// SetAbort installs the callback run when the node sheds this connection
// to stay within the global queue budget (see Abort). Call it before the
// outbox is shared.
func (o *Outbox) SetAbort(fn func()) { o.abort = fn }

// Wake is signalled whenever something was queued or Close was called
// (unless SetNotify installed a callback instead).
func (o *Outbox) Wake() <-chan struct{} { return o.wake }

// SetNotify replaces the Wake channel by a callback, called (without
// locks held) after every push and Close. It lets the connection run a
// writer goroutine only while there is something to write. Call it
// before the outbox is shared.
func (o *Outbox) SetNotify(fn func()) { o.notify = fn }

func (o *Outbox) signal() {
	if o.notify != nil {
		o.notify()
		return
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// pushResult tells why a counted item was (not) queued.
type pushResult uint8

const (
	pushOK     pushResult = iota
	pushFull              // the connection's own bounds
	pushGlobal            // the node's global budget
)

// push queues it; counted items need room under the capacity and the
// budgets. It returns false when the item does not fit.
func (o *Outbox) push(it outItem, counted bool) bool {
	if counted {
		return o.pushCounted([]outItem{it}, nil) == 1
	}
	it.control = true
	o.mu.Lock()
	ok := !o.closing && o.controls < o.hardCap
	if ok {
		o.controls++
		o.runSub = nil // a control message ends the merge run
		o.items = append(o.items, it)
	}
	o.mu.Unlock()
	if ok {
		o.signal()
	}
	return ok
}

// pushCounted queues items (or the changes' items) in order until one
// does not fit and returns how many were queued, waking the writer once.
// When the global budget is what refused, the connections holding the
// most are shed (never waiting for anyone) and the rest is tried once
// more.
func (o *Outbox) pushCounted(items []outItem, changes []pendingChange) int {
	total := len(items) + len(changes)
	at := func(i int) outItem {
		if items != nil {
			return items[i]
		}
		return changes[i].item
	}
	n := 0
	for retried := false; ; retried = true {
		res := pushOK
		o.mu.Lock()
		for n < total {
			if res = o.pushLocked(at(n)); res != pushOK {
				break
			}
			n++
		}
		o.mu.Unlock()
		if res != pushGlobal || retried || !o.budget.shed(o) {
			break
		}
	}
	if n > 0 {
		o.signal()
	}
	return n
}

// pushLocked queues a counted item if it fits.
func (o *Outbox) pushLocked(it outItem) pushResult {
	if o.closing {
		return pushFull
	}
	size := it.size()
	merges := it.raw == nil && it.sub == o.runSub && it.kind == o.runKind &&
		o.runRows < maxMergedRows && o.runBytes < maxMergedBytes
	held := o.bytes + o.inflight
	// A message larger than the whole per-connection budget still goes
	// out alone, once nothing else is held; the global budget decides.
	if (!merges && o.counted >= o.cap) || (held > 0 && held+size > o.maxBytes) {
		return pushFull
	}
	if !o.budget.charge(&it) {
		return pushGlobal
	}
	if merges {
		o.runRows++
		o.runBytes += size
	} else {
		o.counted++
		o.runSub, o.runKind, o.runRows, o.runBytes = nil, 0, 0, 0
		if it.raw == nil {
			o.runSub, o.runKind, o.runRows, o.runBytes = it.sub, it.kind, 1, size
		}
	}
	o.bytes += size
	if held == 0 {
		o.drained.Store(time.Now().UnixNano())
	}
	o.held.Add(int64(size))
	o.items = append(o.items, it)
	return pushOK
}

// pushBatch queues the changes' items in order until one does not fit;
// it returns how many were queued and wakes the writer once.
func (o *Outbox) pushBatch(changes []pendingChange) int {
	if len(changes) == 0 {
		return 0
	}
	return o.pushCounted(nil, changes)
}

// Sent tells the outbox that the frames of the last Take were written:
// their bytes no longer count against the budgets.
func (o *Outbox) Sent() {
	o.drained.Store(time.Now().UnixNano())
	o.writeSince.Store(0)
	o.mu.Lock()
	o.releaseInflightLocked()
	o.mu.Unlock()
}

// Progress records that a frame was just written: the connection is
// draining, not stalled (a writer may spend a while on a large batch of
// frames before Sent).
func (o *Outbox) Progress() {
	o.drained.Store(time.Now().UnixNano())
	o.writeSince.Store(0)
}

// SetSendQueue installs a probe of the bytes the connection's kernel
// send queue holds that the client has not acknowledged (-1: unknown).
// When the node must shed, connections whose sockets hold unread bytes go
// before those whose clients keep up (see queueBudget). It may be called
// while the outbox is shared.
func (o *Outbox) SetSendQueue(fn func() int) { o.sendQueue.Store(&fn) }

// unsentBytes asks the probe (0 without one).
func (o *Outbox) unsentBytes() int {
	if fn := o.sendQueue.Load(); fn != nil {
		return max((*fn)(), 0)
	}
	return 0
}

// Writing records that the writer is about to hand a frame to the
// socket; Progress (or Sent) ends it. A connection whose socket has not
// accepted a frame for stallAfter is stalled (see queueBudget).
func (o *Outbox) Writing() { o.writeSince.Store(time.Now().UnixNano()) }

// releaseInflightLocked returns the bytes in flight (the writer's copies)
// to the budgets.
func (o *Outbox) releaseInflightLocked() {
	if o.inflight == 0 {
		return
	}
	o.held.Add(-int64(o.inflight))
	o.budget.release(o.inflight)
	o.inflight = 0
}

// dropLocked empties the queue and refunds everything it and the writer
// held.
func (o *Outbox) dropLocked() {
	for i := range o.items {
		o.budget.refund(&o.items[i])
	}
	o.held.Add(-int64(o.bytes))
	o.bytes = 0
	o.releaseInflightLocked()
	clear(o.items)
	o.items = o.items[:0]
	o.counted, o.controls = 0, 0
	o.runSub = nil
}

// Release drops everything still queued or in flight from the budgets;
// the connection is gone (Manager.Detach calls it).
func (o *Outbox) Release() {
	o.mu.Lock()
	o.dropLocked()
	o.mu.Unlock()
}

// Abort sheds the connection: what is queued is dropped (its bytes
// return to the global budget at once), the client is told why in an
// error (code OVERLOADED) and the connection is closed with
// CloseTryAgainLater. The abort callback then makes sure a writer stuck
// on a client that does not read lets go. It reports whether this call
// shed the outbox (false if it was shed or closing already).
func (o *Outbox) Abort(reason string) bool {
	o.mu.Lock()
	if o.shed {
		o.mu.Unlock()
		return false
	}
	o.shed = true
	o.dropLocked()
	o.items = append(o.items, outItem{raw: ErrorMessage(SubIDProtocol, CodeOverloaded, reason), control: true})
	o.controls = 1
	o.closing, o.closeCode, o.closeReason = true, CloseTryAgainLater, CodeOverloaded
	o.mu.Unlock()
	o.signal()
	if o.abort != nil {
		o.abort()
	}
	return true
}

// Held returns the bytes the connection holds against the budgets:
// queued plus in flight (metrics, shedding).
func (o *Outbox) Held() int64 { return o.held.Load() }

// PushControl queues an uncounted control message (errors, auth replies).
// When even the hard cap is reached the client has stopped reading for
// good: the connection is closed instead.
func (o *Outbox) PushControl(msg []byte) {
	if !o.push(outItem{raw: msg}, false) {
		o.Close(closePolicy, "queue overflow: the client does not read")
	}
}

// Close asks the writer to close the connection with code once the queued
// messages are written. The first call wins.
func (o *Outbox) Close(code int, reason string) {
	o.mu.Lock()
	if !o.closing {
		o.closing, o.closeCode, o.closeReason = true, code, reason
	}
	o.mu.Unlock()
	o.signal()
}

// Closing reports whether Close was called.
func (o *Outbox) Closing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closing
}

// Len returns the number of queued messages (tests, metrics).
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// Take removes everything queued and appends it to frames as complete
// messages, merging consecutive changes of the same subscription and kind
// into one "change" message (its rows/old_values arrays hold them in
// order). Change frames are built in arena (grown as needed and returned
// for reuse), so a busy connection allocates nothing per message once
// warm. closing reports a pending Close, with its code and reason; the
// writer closes after writing the returned frames.
func (o *Outbox) Take(frames [][]byte, arena []byte) (_ [][]byte, _ []byte, closing bool, code int, reason string) {
	frames, arena, closing, code, reason, _ = o.TakeUpTo(frames, arena, 0)
	return frames, arena, closing, code, reason
}

// TakeUpTo is Take bounded to about maxBytes of queued data (at least one
// message; 0: no bound): the rest stays queued, and more reports it, so
// the writer comes back for it. A writer on a client that does not read
// then holds (and has encoded) only what its socket could take, not its
// whole backlog: 200 stalled connections each encoding 8 MiB at once
// would copy the global budget's worth of bytes for nothing. closing is
// only reported with the last of what is queued.
func (o *Outbox) TakeUpTo(frames [][]byte, arena []byte, maxBytes int) (_ [][]byte, _ []byte, closing bool, code int, reason string, more bool) {
	o.mu.Lock()
	all := o.items
	cut := len(all)
	if maxBytes > 0 {
		size := 0
		for i := range all {
			if i > 0 && size >= maxBytes {
				cut = i
				break
			}
			size += all[i].size()
		}
	}
	items := all[:cut]
	// The taken changes leave the queue (their shared references are
	// dropped) and become the writer's own copy, charged per connection
	// until Sent.
	taken := 0
	for i := range items {
		if !items[i].control {
			taken += items[i].size()
		}
	}
	o.budget.force(taken)
	for i := range items {
		o.budget.refund(&items[i])
	}
	if cut == len(all) {
		o.items = o.spare[:0]
		// The bytes taken stay charged until the writer has written them
		// (Sent): a writer blocked on a slow client holds its frames.
		o.inflight += o.bytes
		o.counted, o.controls, o.bytes = 0, 0, 0
		o.runSub, o.runKind, o.runRows, o.runBytes = nil, 0, 0, 0
	} else {
		o.items = append(o.spare[:0], all[cut:]...)
		o.recountLocked()
		more = true
	}
	o.spare = nil
	closing, code, reason = o.closing && !more, o.closeCode, o.closeReason
	o.mu.Unlock()
	// Frames reference arena by offset until it stops growing.
	type span struct {
		raw        []byte
		start, end int
	}
	var spansBuf [16]span
	spans := spansBuf[:0]
	arena = arena[:0]
	for i := 0; i < len(items); {
		it := items[i]
		if it.raw != nil {
			spans = append(spans, span{raw: it.raw})
			i++
			continue
		}
		j, size := i+1, len(it.row)+len(it.old)
		for j < len(items) && j-i < maxMergedRows && size < maxMergedBytes &&
			items[j].raw == nil && items[j].sub == it.sub && items[j].kind == it.kind {
			size += len(items[j].row) + len(items[j].old)
			j++
		}
		start := len(arena)
		arena = appendChange(arena, it.sub.idJSON, it.kind, items[i:j])
		spans = append(spans, span{start: start, end: len(arena)})
		i = j
	}
	for _, sp := range spans {
		if sp.raw != nil {
			frames = append(frames, sp.raw)
		} else {
			frames = append(frames, arena[sp.start:sp.end:sp.end])
		}
	}
	clear(all)
	if cap(all) <= 256 {
		o.mu.Lock()
		if o.spare == nil {
			o.spare = all[:0]
		}
		o.mu.Unlock()
	}
	return frames, arena, closing, code, reason, more
}

// recountLocked recomputes the counters and the tail merge run over what
// is left queued after a bounded take; the bytes taken move to inflight.
func (o *Outbox) recountLocked() {
	counted, controls, bytes := 0, 0, 0
	var runSub *Subscription
	var runKind changeKind
	runRows, runBytes := 0, 0
	for i := range o.items {
		it := &o.items[i]
		if it.control {
			controls++
			runSub = nil
			continue
		}
		size := it.size()
		bytes += size
		if it.raw == nil && it.sub == runSub && it.kind == runKind && runRows < maxMergedRows && runBytes < maxMergedBytes {
			runRows++
			runBytes += size
			continue
		}
		counted++
		runSub, runKind, runRows, runBytes = nil, 0, 0, 0
		if it.raw == nil {
			runSub, runKind, runRows, runBytes = it.sub, it.kind, 1, size
		}
	}
	o.inflight += o.bytes - bytes
	o.counted, o.controls, o.bytes = counted, controls, bytes
	o.runSub, o.runKind, o.runRows, o.runBytes = runSub, runKind, runRows, runBytes
}

// WebSocket close codes used by the package (RFC 6455 §7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	closePolicy          = 1008
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	// CloseTryAgainLater closes a connection shed because the node's
	// global queue budget was exhausted (websocket.max_queued_bytes_total).
	CloseTryAgainLater = 1013
)
