package engine

import (
	"bytes"
	"encoding/binary"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// raiseHorizons records, in the batch that purges hot rows, the largest
// _seq purged from each scope (keys.HistoryHorizon). Live-query resume
// relies on it: every change after a scope's horizon is still in the hot
// tier (latest version or tombstone), so a resume from an older _seq is
// refused instead of missing a purged delete. The purge list's _seq
// values are the versions the flush read; a key that changed meanwhile
// stays hot, so recording its old _seq only makes the horizon more
// conservative.
//
// A flush names its scope by its manifest pointer, which has the same
// layout as the horizon key but for the kind byte. A pointer-less purge
// (STREAM TTL eviction) only touches per-user rows; their scope is the
// key up to and including the user terminator.
func (a *applier) raiseHorizons(c *ColdCommit) error {
	if len(c.Purge) == 0 {
		return nil
	}
	maxSeq := map[string]uint64{}
	for _, p := range c.Purge {
		var scope []byte
		if c.Pointer != nil {
			scope = c.Pointer
		} else if i := bytes.IndexByte(p.Key[min(len(p.Key), 7):], 0); len(p.Key) > 7 && i >= 0 {
			scope = p.Key[:7+i+1]
		} else {
			continue
		}
		if s := string(scope); p.Seq > maxSeq[s] {
			maxSeq[s] = p.Seq
		}
	}
	for scope, seq := range maxSeq {
		hk := keys.HistoryHorizonOf([]byte(scope))
		cur, err := a.get(hk)
		if err != nil {
			return err
		}
		if len(cur) >= 8 && binary.BigEndian.Uint64(cur) >= seq {
			continue
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], seq)
		if err := a.setKey(hk, v[:]); err != nil {
			return err
		}
	}
	return nil
}
