package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// ErrNoQuorum: a replicated write or linearizable read could not reach a
// quorum of its group within the proposal timeout (dataplane/replication).
// For a write the outcome is unknown: it may still be applied later, so a
// retry must tolerate a duplicate (an INSERT may answer DUPLICATE_KEY).
var ErrNoQuorum = errors.New("no quorum")

// ApplyLog applies commands that a replicated log committed for group g,
// in order, through the same apply path as Propose (so catalog changes
// reach the cache and observers — live queries — fire on every replica).
// It is the replication state machine's only way in and must not run
// concurrently with Propose or with itself for the same group.
//
// The round is one Pebble batch: extra adds the log's own bookkeeping
// (its applied index) to it, so the data and the log position can never
// disagree. The batch is committed without fsync when sync is false: the
// replicated log is then the durability point and replays what a crash
// lost. errs[i] is the deterministic failure of cmds[i] (nil when it
// applied); err is a storage failure, after which nothing of the round
// is known to be durable.
func (e *Executor) ApplyLog(g uint16, cmds []*Command, extra func(*pebble.Batch) error, sync bool) (res []Result, errs []error, err error) {
	st := e.groups[g]
	if st == nil {
		return nil, nil, fmt.Errorf("unknown group %d", g)
	}
	ps := make([]*proposal, len(cmds))
	for i, c := range cmds {
		ps[i] = &proposal{cmd: c}
	}
	e.commit(st, ps, extra, sync)
	res, errs = make([]Result, len(ps)), make([]error, len(ps))
	for i, p := range ps {
		res[i], errs[i] = p.res, p.err
	}
	// Deterministic failures are *Error; anything else (a failed commit,
	// a storage read error during apply) is not reproducible on the other
	// replicas, so the caller must not treat the round as applied.
	var ee *Error
	for _, pe := range errs {
		if pe != nil && !errors.As(pe, &ee) {
			return res, errs, pe
		}
	}
	return res, errs, nil
}

// ReloadGroup re-reads group g's applied index and last _seq from
// storage, after its key range was replaced underneath the executor (a
// replication snapshot was installed). Same concurrency rule as ApplyLog.
func (e *Executor) ReloadGroup(g uint16) error {
	st := e.groups[g]
	if st == nil {
		return fmt.Errorf("unknown group %d", g)
	}
	st.applied, st.lastSeq = 0, 0
	v, closer, err := e.db.Get(keys.GroupState(g))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("while reloading state of group %d: %w", g, err)
	}
	defer closer.Close()
	if len(v) >= 16 {
		st.applied = binary.BigEndian.Uint64(v[0:8])
		st.lastSeq = binary.BigEndian.Uint64(v[8:16])
	}
	return nil
}

// Admit runs Options.Admit for cmd the way Propose does: a replicated
// proposer refuses a write on a full volume before it enters the log.
func (e *Executor) Admit(cmd *Command) error {
	if e.opts.Admit == nil || FreesSpace(cmd) {
		return nil
	}
	if err := e.opts.Admit(cmd); err != nil {
		return &Error{Kind: ErrDiskFull, Msg: err.Error(), Row: -1}
	}
	return nil
}
