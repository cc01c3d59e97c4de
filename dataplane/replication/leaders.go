package replication

import (
	"sync"
	"time"

	"github.com/lni/dragonboat/v4/raftio"
)

// Leader changes end in-flight requests early (issue 20). A follower
// forwards a proposal or a ReadIndex to the leader it knows; if that
// leader dies, dragonboat keeps the request pending until its timeout
// although a new leader is elected within an election timeout. The
// Host listens to dragonboat's LeaderUpdated events and hands every
// waiting request a channel that closes when its shard gets a leader at
// a higher term. A ReadIndex then simply runs again (it changes
// nothing). A proposal cannot be re-proposed safely (the entry may sit
// in the new leader's log and commit), so it is given a grace period to
// commit through the new leader and otherwise fails with the retryable
// NO_QUORUM, outcome unknown, as a timeout does.

// leaderWatch tracks, per shard, the highest term with a known leader
// and a channel closed when it is superseded.
type leaderWatch struct {
	mu     sync.Mutex
	term   map[uint64]uint64
	change map[uint64]chan struct{}
}

func newLeaderWatch() *leaderWatch {
	return &leaderWatch{term: map[uint64]uint64{}, change: map[uint64]chan struct{}{}}
}

// changed returns a channel closed once shard has a leader at a term
// higher than the one known now.
func (lw *leaderWatch) changed(shard uint64) <-chan struct{} {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	ch, ok := lw.change[shard]
	if !ok {
		ch = make(chan struct{})
		lw.change[shard] = ch
	}
	return ch
}

// update records info; it returns whether it announced a new leader.
func (lw *leaderWatch) update(info raftio.LeaderInfo) bool {
	if info.LeaderID == 0 {
		return false // an election is under way: nothing to act on yet
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if info.Term <= lw.term[info.ShardID] {
		return false
	}
	lw.term[info.ShardID] = info.Term
	if ch, ok := lw.change[info.ShardID]; ok {
		close(ch)
		delete(lw.change, info.ShardID)
	}
	return true
}

// hostEvents is the Host's raftio.IRaftEventListener. dragonboat calls
// it on one goroutine of its own; it must not block.
type hostEvents struct{ lw *leaderWatch }

var _ raftio.IRaftEventListener = hostEvents{}

// LeaderUpdated implements raftio.IRaftEventListener.
func (e hostEvents) LeaderUpdated(info raftio.LeaderInfo) { e.lw.update(info) }

// leaderChangeGrace is how long a proposal in flight when its shard got
// a new leader may still take to commit through that leader before it
// fails: two election timeouts, enough for the new leader to commit
// its first entry (and with it any the proposal's entry follows).
func (h *Host) leaderChangeGrace() time.Duration {
	return 2 * time.Duration(h.opts.ElectionRTT) * h.opts.RTT
}
