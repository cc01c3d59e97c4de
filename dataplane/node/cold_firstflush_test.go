package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestReadsDuringFirstFlush: a table's first flush moves its rows from the
// hot tier to the cold tier in one commit; a read at any moment sees every
// row, in one tier or the other. Reads skip the cold tier of tables not
// known to have one; the flush used to mark the table only after its
// commit, and reads in between returned no rows (the original's
// parallel_query_burst smoke test found it).
func TestReadsDuringFirstFlush(t *testing.T) {
	dir := t.TempDir()
	n := startCold(t, dir)
	defer n.Close()
	root := login(t, n, "root", rootPW)
	for round := 0; round < 4; round++ {
		full := fmt.Sprintf("ff%d.t", round)
		mustSQL(t, root, fmt.Sprintf("CREATE NAMESPACE ff%d; CREATE SHARED TABLE %s (id INT PRIMARY KEY, v TEXT)", round, full))
		values := make([]string, 300)
		for i := range values {
			values[i] = fmt.Sprintf("(%d, 'v%d')", i, i)
		}
		mustSQL(t, root, "INSERT INTO "+full+" (id, v) VALUES "+strings.Join(values, ", "))
		rows := mustRows(t, root, "STORAGE FLUSH TABLE "+full)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := root.SQL(context.Background(), "SELECT COUNT(*) FROM "+full)
					if err != nil {
						t.Error(err)
						return
					}
					if got := fmt.Sprint(res.Results[0].Rows); got != "[[300]]" {
						t.Errorf("round %d: COUNT(*) during the first flush = %s, want 300", round, got)
						return
					}
				}
			}()
		}
		mustComplete(t, waitJob(t, root, fmt.Sprint(rows[0][0])))
		close(stop)
		wg.Wait()
		if t.Failed() {
			return
		}
	}
}
