package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// jobIDs returns the job ids a statement result started (STORAGE FLUSH /
// COMPACT, BACKUP, RESTORE answer with a job_id column).
func jobIDs(r client.Result) []string {
	col := -1
	for i, f := range r.Schema {
		if f.Name == "job_id" {
			col = i
		}
	}
	if col < 0 {
		return nil
	}
	var ids []string
	for _, row := range r.Rows {
		if col < len(row) && row[col] != nil {
			if id := fmt.Sprint(row[col]); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// isTerminal reports whether w is a terminal (progress is only drawn on
// one, so redirected output stays clean).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

var spinner = []rune(`|/-\`)

// waitJobs polls system.jobs until every job finished or the timeout
// passes, drawing a progress line on stderr when it is a terminal, and
// reports each outcome on stderr. It returns exitSQL when a job failed.
func (s *shell) waitJobs(ids []string) int {
	if len(ids) == 0 {
		return exitOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	tty := isTerminal(s.errw)
	start := time.Now()
	pending := append([]string(nil), ids...)
	code := exitOK
	for tick := 0; len(pending) > 0; tick++ {
		var still []string
		for _, id := range pending {
			rows, err := s.c.Rows(ctx, "SELECT status, error_message, rows_affected, bytes_written FROM system.jobs WHERE job_id = $1", id)
			if err != nil {
				if tty {
					fmt.Fprint(s.errw, "\r\033[K")
				}
				fmt.Fprintf(s.errw, "cannot follow job %s: %v\n", id, err)
				return exitSQL
			}
			if len(rows) == 1 && (rows[0][0] == "completed" || rows[0][0] == "failed") {
				if tty {
					fmt.Fprint(s.errw, "\r\033[K")
				}
				r := rows[0]
				if r[0] == "failed" {
					fmt.Fprintf(s.errw, "job %s failed: %v\n", id, r[1])
					code = exitSQL
				} else {
					fmt.Fprintf(s.errw, "job %s completed: %v rows, %v bytes (%s)\n", id, r[2], r[3], time.Since(start).Round(time.Millisecond))
				}
				continue
			}
			still = append(still, id)
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		if tty {
			fmt.Fprintf(s.errw, "\r\033[K%c waiting for %d job(s) (%s) %s", spinner[tick%len(spinner)], len(pending), pending[0], time.Since(start).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprint(s.errw, "\r\033[K")
			}
			fmt.Fprintf(s.errw, "stopped waiting for job(s) %v after %s; they keep running (see system.jobs)\n", pending, s.timeout)
			return exitSQL
		case <-time.After(200 * time.Millisecond):
		}
	}
	return code
}
