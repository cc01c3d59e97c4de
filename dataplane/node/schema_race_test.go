package node

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSetNotNullRace runs SET NOT NULL while writers keep inserting rows
// with a NULL. Outside an ALTER attempt a writer fixes its NULL a moment
// later; during one it leaves it, so a NULL that slipped in between the
// ALTER's check and its commit stays visible. Once the ALTER has
// committed no NULL may be left in the column: writes planned under the
// old definition are fenced out (engine/fence.go).
func TestSetNotNullRace(t *testing.T) {
	n := startNode(t, t.TempDir())
	defer n.Close()
	root := login(t, n, "root", rootPW)
	mustSQL(t, root, "CREATE NAMESPACE app")
	mustSQL(t, root, "CREATE SHARED TABLE app.r (id BIGINT PRIMARY KEY, v INT)")

	var stop, altering atomic.Bool
	var wg sync.WaitGroup
	var nullsWritten atomic.Int64
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100_000 && !stop.Load(); i++ {
				id := w*1_000_000 + i
				if _, err := root.SQL(ctx(t), "INSERT INTO app.r (id, v) VALUES ($1, NULL)", id); err != nil {
					time.Sleep(time.Millisecond)
					continue // refused after the ALTER, or fenced out for too long
				}
				nullsWritten.Add(1)
				if !altering.Load() {
					_, _ = root.SQL(ctx(t), "UPDATE app.r SET v = 1 WHERE id = $1", id)
				}
				time.Sleep(time.Duration(2+i%5) * time.Millisecond)
			}
		}()
	}
	// Let the writers get going first, so the ALTER races them.
	for deadline := time.Now().Add(10 * time.Second); nullsWritten.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	// Each round races one successful SET NOT NULL, checks the column,
	// and makes it nullable again for the next round.
	const rounds = 15
	for round := 0; round < rounds; round++ {
		altered := false
		for attempt := 0; attempt < 300 && !altered; attempt++ {
			altering.Store(true)
			_, err := root.SQL(ctx(t), "ALTER TABLE app.r ALTER COLUMN v SET NOT NULL")
			altered = err == nil
			if !altered {
				altering.Store(false)
				_, _ = root.SQL(ctx(t), "UPDATE app.r SET v = 1 WHERE v IS NULL")
			}
		}
		if !altered {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("round %d: SET NOT NULL never found the table free of NULLs", round)
		}
		if got := one(t, root, "SELECT COUNT(*) FROM app.r WHERE v IS NULL"); got != "0" {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("round %d: %s NULL(s) in a NOT NULL column", round, got)
		}
		if round < rounds-1 {
			mustSQL(t, root, "ALTER TABLE app.r ALTER COLUMN v DROP NOT NULL")
			altering.Store(false)
		}
	}
	stop.Store(true)
	wg.Wait()
	wantCode(t, root, "CONSTRAINT_VIOLATION", 400, "INSERT INTO app.r (id, v) VALUES (-1, NULL)")
	t.Logf("NULL rows written while racing: %d", nullsWritten.Load())
}
