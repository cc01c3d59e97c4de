package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLiveQueriesOnEveryReplica: a live query subscribed on any node sees
// every change, whichever node the write went through — events come from
// each replica's own apply path.
func TestLiveQueriesOnEveryReplica(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	cl, err := c.login(c.procs[0], 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SQL(ctx, "CREATE SHARED TABLE default.feed (id BIGINT PRIMARY KEY, body TEXT)"); err != nil {
		t.Fatal(err)
	}
	type sub struct {
		cmd   *exec.Cmd
		lines chan string
		done  chan error
	}
	subs := make([]*sub, len(c.procs))
	for i, p := range c.procs {
		cmd := exec.Command(binPath, "sql", "--url", p.url, "--user", "root", "--format", "json",
			"--max-changes", fmt.Sprint(len(c.procs)), "--subscribe", "SELECT * FROM default.feed")
		cmd.Env = append(os.Environ(), "KALAMDB_PASSWORD="+rootPassword)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := &sub{cmd: cmd, lines: make(chan string, 64), done: make(chan error, 1)}
		go func(r io.Reader) { // ends at the subprocess's EOF
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				s.lines <- sc.Text()
			}
			close(s.lines)
			s.done <- cmd.Wait()
		}(out)
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		subs[i] = s
	}
	for i, s := range subs {
		if !waitLine(s.lines, `"change":"ready"`, 30*time.Second) {
			t.Fatalf("subscription on node %d never became ready", i+1)
		}
	}
	// One INSERT through each node.
	for i, p := range c.procs {
		w, err := c.login(p, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.SQL(ctx, fmt.Sprintf("INSERT INTO default.feed (id, body) VALUES (%d, 'via node %d')", i+1, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range subs {
		seen := map[string]bool{}
		deadline := time.After(30 * time.Second)
	collect:
		for {
			select {
			case l, ok := <-s.lines:
				if !ok {
					break collect
				}
				if strings.Contains(l, `"change":"insert"`) {
					for j := range c.procs {
						if strings.Contains(l, fmt.Sprintf("via node %d", j+1)) {
							seen[fmt.Sprint(j+1)] = true
						}
					}
				}
			case <-deadline:
				break collect
			}
		}
		if len(seen) != len(c.procs) {
			t.Errorf("subscriber on node %d saw inserts from nodes %v, want all %d", i+1, seen, len(c.procs))
		}
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("subscriber on node %d: %v", i+1, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("subscriber on node %d did not exit after %d changes", i+1, len(c.procs))
		}
	}
}

func waitLine(lines <-chan string, want string, limit time.Duration) bool {
	deadline := time.After(limit)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return false
			}
			if strings.Contains(l, want) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
