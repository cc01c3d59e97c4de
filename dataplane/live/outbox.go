package live

import (
	"sync"
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
}

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
// row. Queued bytes are bounded too (bytesPerSlot per message of
// capacity). Errors and other control messages are not counted, so the
// error that reports an overflow always gets queued behind the events
// already accepted; a hard cap on them closes a connection whose client
// never reads at all.
type Outbox struct {
	mu       sync.Mutex
	items    []outItem
	spare    []outItem // the previous items slice, reused by Take
	counted  int
	controls int // uncounted items queued
	bytes    int
	cap      int
	maxBytes int
	hardCap  int
	wake     chan struct{}
	notify   func()
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

// push queues it; counted items need room under the capacity. It returns
// false when the item does not fit.
func (o *Outbox) push(it outItem, counted bool) bool {
	o.mu.Lock()
	var ok bool
	if counted {
		ok = o.pushLocked(it)
	} else if ok = !o.closing && o.controls < o.hardCap; ok {
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

// pushLocked queues a counted item if it fits.
func (o *Outbox) pushLocked(it outItem) bool {
	if o.closing {
		return false
	}
	size := len(it.raw) + len(it.row) + len(it.old)
	merges := it.raw == nil && it.sub == o.runSub && it.kind == o.runKind &&
		o.runRows < maxMergedRows && o.runBytes < maxMergedBytes
	if (!merges && o.counted >= o.cap) || o.bytes+size > o.maxBytes {
		return false
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
	o.items = append(o.items, it)
	return true
}

// pushBatch queues the changes' items in order until one does not fit;
// it returns how many were queued and wakes the writer once.
func (o *Outbox) pushBatch(changes []pendingChange) int {
	o.mu.Lock()
	n := 0
	for i := range changes {
		if !o.pushLocked(changes[i].item) {
			break
		}
		n++
	}
	o.mu.Unlock()
	if n > 0 {
		o.signal()
	}
	return n
}

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
	o.mu.Lock()
	items := o.items
	o.items = o.spare[:0]
	o.spare = nil
	o.counted, o.controls, o.bytes = 0, 0, 0
	o.runSub, o.runKind, o.runRows, o.runBytes = nil, 0, 0, 0
	closing, code, reason = o.closing, o.closeCode, o.closeReason
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
	clear(items)
	if cap(items) <= 256 {
		o.mu.Lock()
		if o.spare == nil {
			o.spare = items[:0]
		}
		o.mu.Unlock()
	}
	return frames, arena, closing, code, reason
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
)
