package flush

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/engine"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/cold"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Policy is a parsed FLUSH_POLICY: flush when a table holds Rows hot rows,
// or every Interval while it holds any (0 = that part is absent).
type Policy struct {
	Rows     int64
	Interval time.Duration
}

// ParsePolicy parses 'rows:N', 'interval:S' or 'rows:N,interval:S'.
func ParsePolicy(s string) (Policy, error) {
	var p Policy
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if !ok || err != nil || n < 1 {
			return p, fmt.Errorf("invalid FLUSH_POLICY %q", s)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "rows":
			p.Rows = n
		case "interval":
			p.Interval = time.Duration(n) * time.Second
		default:
			return p, fmt.Errorf("invalid FLUSH_POLICY %q", s)
		}
	}
	return p, nil
}

// nextUserCleanup is when the user_cleanup job runs next after now: the
// cron schedule's next time (UTC), or now + the interval.
func (m *Manager) nextUserCleanup(now time.Time) time.Time {
	if m.opts.UserCleanupNext != nil {
		return m.opts.UserCleanupNext(now.UTC())
	}
	return now.Add(m.opts.UserCleanupInterval)
}

func (m *Manager) scheduler() {
	defer m.wg.Done()
	tick := time.NewTicker(m.opts.Tick)
	defer tick.Stop()
	lastEvict, lastJanitor := m.now(), m.now()
	nextUserCleanup := m.nextUserCleanup(m.now())
	wasLeader := m.leads() // Start recovered the jobs if it leads
	cluster := m.opts.Cluster != nil
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-tick.C:
		}
		// Work split by group leadership (every node of a cluster does
		// its groups' share; parts.go).
		if cluster {
			m.dispatchParts()
		}
		m.checkPolicies()
		if m.now().Sub(lastEvict) >= m.opts.StreamEvictionInterval {
			lastEvict = m.now()
			if err := m.EvictStreams(m.ctx); err != nil && m.ctx.Err() == nil {
				m.log.Warn("stream eviction failed", "err", err)
			}
		}
		// Catalog-wide work: the meta leader's.
		if !m.leads() {
			wasLeader = false
			continue
		}
		if !wasLeader {
			// Just became the leader: jobs the previous one left
			// unfinished will never finish (recoverJobs).
			wasLeader = true
			if err := m.recoverJobs(m.ctx); err != nil && m.ctx.Err() == nil {
				m.log.Warn("recovering interrupted jobs failed", "err", err)
				wasLeader = false
			}
		}
		if cluster {
			if err := m.resumeDrops(m.ctx); err != nil && m.ctx.Err() == nil {
				m.log.Warn("resuming dropped-table cleanups failed", "err", err)
			}
		}
		if now := m.now(); !now.Before(nextUserCleanup) {
			nextUserCleanup = m.nextUserCleanup(now)
			if err := m.PurgeDroppedUsers(m.ctx, m.opts.UserDeletionGrace); err != nil && m.ctx.Err() == nil {
				m.log.Warn("user cleanup failed", "err", err)
			}
		}
		if m.now().Sub(lastJanitor) >= m.opts.JanitorInterval {
			lastJanitor = m.now()
			if err := m.Janitor(m.ctx); err != nil && m.ctx.Err() == nil {
				m.log.Warn("cold-tier janitor failed", "err", err)
			}
		}
	}
}

// checkPolicies queues flush jobs for tables whose rows or interval
// trigger fired. The interval part runs on its own per-table clock (the
// time since that table's last flush), not on the tick. The rows trigger
// counts the table's hot rows in every group; on a replicated node the
// job then flushes the groups this node leads, and only a node leading a
// group with pending rows of the table queues one.
func (m *Manager) checkPolicies() {
	now := m.now()
	total, mine := m.pendingByTable()
	for _, t := range m.cat.Tables("") {
		if t.FlushPolicy == "" || t.Type == catalog.TableStream || t.Type == catalog.TableSystem {
			continue
		}
		p, err := ParsePolicy(t.FlushPolicy)
		if err != nil {
			continue
		}
		m.mu.Lock()
		last, seen := m.lastFlush[t.ID]
		if !seen {
			m.lastFlush[t.ID], last = now, now
		}
		m.mu.Unlock()
		n := total[t.ID]
		trigger := ""
		switch {
		case mine[t.ID] == 0:
		case p.Rows > 0 && n >= p.Rows:
			trigger = "rows"
		case p.Interval > 0 && n > 0 && now.Sub(last) >= p.Interval:
			trigger = "interval"
		}
		if trigger == "" {
			continue
		}
		if _, err := m.Submit(m.ctx, JobFlush, trigger, t, false); err != nil && m.ctx.Err() == nil {
			m.log.Warn("could not queue flush", "table", t.QualifiedName(), "err", err)
		}
	}
}

// SeqTimeMs is the wall-clock millisecond a _seq was stamped at.
func SeqTimeMs(seq uint64) int64 { return int64(seq>>22) + engine.SeqEpochMs }

// Expired reports whether a STREAM row stamped with seq is past ttl.
func Expired(seq uint64, ttlSeconds, nowMs int64) bool {
	return ttlSeconds > 0 && SeqTimeMs(seq) < nowMs-ttlSeconds*1000
}

// EvictStreams deletes STREAM rows older than their table's TTL_SECONDS
// (readers already hide them; this reclaims the space). Deletes go
// through the engine in bounded commands.
func (m *Manager) EvictStreams(ctx context.Context) error {
	now := m.nowMs()
	for _, t := range m.cat.Tables("") {
		if t.Type != catalog.TableStream || t.TTLSeconds <= 0 {
			continue
		}
		evicted := int64(0)
		for _, g := range keys.AllDataGroups()[1:] {
			if !m.leadsGroup(g) {
				continue // that group's leader evicts it
			}
			tp := keys.TablePrefix(g, t.ID)
			it, err := m.db.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: keys.PrefixEnd(tp)})
			if err != nil {
				return err
			}
			var purge []engine.PurgeKey
			commit := func() error {
				if len(purge) == 0 {
					return nil
				}
				res, err := m.exec.Propose(ctx, &engine.Command{Group: g, TimeMs: now, Cold: &engine.ColdCommit{Purge: purge}})
				evicted += int64(res.Purged)
				purge = purge[:0]
				return err
			}
			for it.First(); it.Valid(); it.Next() {
				v := it.Value()
				if len(v) < 9 {
					continue
				}
				seq := uint64(v[1])<<56 | uint64(v[2])<<48 | uint64(v[3])<<40 | uint64(v[4])<<32 | uint64(v[5])<<24 | uint64(v[6])<<16 | uint64(v[7])<<8 | uint64(v[8])
				if Expired(seq, t.TTLSeconds, now) {
					purge = append(purge, engine.PurgeKey{Key: append([]byte(nil), it.Key()...), Seq: seq})
					if len(purge) >= 10000 {
						if err := commit(); err != nil {
							it.Close()
							return err
						}
					}
				}
			}
			if err := it.Close(); err != nil {
				return err
			}
			if err := commit(); err != nil {
				return err
			}
		}
		if evicted > 0 {
			j := m.newJob(JobStreamEviction, "ttl", t)
			j.Status, j.StartedAt, j.FinishedAt, j.Rows = catalog.JobCompleted, now, m.nowMs(), evicted
			if err := m.putJob(ctx, j); err != nil {
				return err
			}
		}
	}
	return nil
}

// Janitor deletes cold objects that no committed manifest references and
// that are older than OrphanGrace (failed or superseded flushes and
// compactions, crashed writers' tmp files), and trims old job records.
// It only looks inside the directories of existing tables, so objects a
// storage shares with anything else are never touched.
func (m *Manager) Janitor(ctx context.Context) error {
	if err := m.trimJobs(ctx); err != nil {
		return err
	}
	release, ok := m.janitorPause.enter()
	if !ok {
		m.log.Debug("cold-tier janitor paused by a running backup")
		return nil
	}
	defer release()
	snap := m.db.NewSnapshot()
	defer snap.Close()
	referenced := map[string]bool{} // storage id + "\x00" + key
	for _, g := range keys.AllDataGroups() {
		p := keys.ColdPointerPrefix(g, 0, true)
		it, err := snap.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			ptr, err := engine.DecodeColdPointer(it.Value())
			if err != nil || ptr.Manifest == "" {
				continue
			}
			st, _, err := m.Store(ptr.StorageID)
			if err != nil {
				it.Close()
				return err
			}
			man, err := m.reader.Manifest(ctx, st, ptr.StorageID, ptr.Manifest)
			if err != nil {
				it.Close()
				return err
			}
			referenced[ptr.StorageID+"\x00"+ptr.Manifest] = true
			referenced[ptr.StorageID+"\x00"+cold.MirrorKey(path.Dir(ptr.Manifest))] = true
			for _, s := range man.Segments {
				referenced[ptr.StorageID+"\x00"+s.Path] = true
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	cutoff := m.now().Add(-m.opts.OrphanGrace)
	for _, t := range m.cat.Tables("") {
		if t.Type == catalog.TableStream || t.Type == catalog.TableSystem {
			continue
		}
		st, rec, err := m.Store(t.StorageID)
		if err != nil {
			continue
		}
		dir, err := scopeDir(rec, t, "\x01")
		if err != nil {
			continue
		}
		// The table's directory is the template up to the user part.
		if i := strings.IndexByte(dir, '\x01'); i >= 0 {
			dir = dir[:i]
		}
		dir = strings.TrimSuffix(dir, "/") + "/"
		objs, err := st.List(ctx, dir)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if !cold.IsColdObject(o.Key) || referenced[t.StorageID+"\x00"+o.Key] || o.ModTime.After(cutoff) {
				continue
			}
			if err := st.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}
