package flush

import "sync"

// janitorPause lets a running backup stop orphan deletion: a backup copies
// the segments and manifests its snapshot's pointers name, and a flush or
// compaction during the backup can make those objects orphans; deleting
// them (after OrphanGrace) would fail the backup. While any pause is held
// the janitor skips its deletion pass; PauseJanitor waits for a pass in
// flight to end, so no deletion decided before the pause runs after it.
type janitorPause struct {
	// run is held by a janitor deletion pass.
	run sync.Mutex
	mu  sync.Mutex
	n   int
}

// enter starts a deletion pass unless paused.
func (p *janitorPause) enter() (release func(), ok bool) {
	p.run.Lock()
	p.mu.Lock()
	n := p.n
	p.mu.Unlock()
	if n > 0 {
		p.run.Unlock()
		return nil, false
	}
	return p.run.Unlock, true
}

// PauseJanitor stops orphan deletion until resume is called (idempotent).
// It returns once no deletion pass is running.
func (m *Manager) PauseJanitor() (resume func()) {
	p := &m.janitorPause
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
	p.run.Lock()
	p.run.Unlock() // only waits for a pass in flight
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			p.n--
			p.mu.Unlock()
		})
	}
}
