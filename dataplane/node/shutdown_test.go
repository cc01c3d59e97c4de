package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/hot"
)

// TestGracefulShutdownOnSIGTERM sends SIGTERM to a real `kalamdb server`
// under concurrent writes and a live subscription. It checks the process
// exits 0, the WebSocket client got close code 1001, the table with a
// flush policy was flushed by a "shutdown" job, the data dir was left
// clean (marker written, Pebble LOCK released, no WAL to replay), and
// every acknowledged row is there after a restart.
func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	p := startServerProcess(t)
	ctx := context.Background()
	if _, err := p.root.SQL(ctx, `CREATE NAMESPACE g;
		CREATE SHARED TABLE g.s (id BIGINT PRIMARY KEY, v TEXT) WITH (FLUSH_POLICY = 'rows:999999');
		CREATE USER TABLE g.u (id BIGINT PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	// A live subscription that must see the going-away close.
	ws, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(p.port)+"/v1/ws?compress=false",
		&websocket.DialOptions{HTTPHeader: map[string][]string{"Authorization": {"Bearer " + p.root.Token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe","subscription":{"id":"s","sql":"SELECT * FROM g.s"}}`)); err != nil {
		t.Fatal(err)
	}
	closeCode := make(chan websocket.StatusCode, 1)
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		for {
			if _, _, err := ws.Read(rctx); err != nil {
				closeCode <- websocket.CloseStatus(err)
				return
			}
		}
	}()

	const writers = 4
	var wg sync.WaitGroup
	var total atomic.Int64
	acked := make([][]int, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := client.New(p.url)
			c.Token = p.root.Token
			for i := 0; i < 5000; i++ { // bounded; the server stops first
				id := w*100000 + i
				if _, err := c.SQL(ctx, `INSERT INTO g.s (id, v) VALUES ($1, 'x')`, id); err != nil {
					return
				}
				if _, err := c.SQL(ctx, `INSERT INTO g.u (id, v) VALUES ($1, 'y')`, id); err != nil {
					return
				}
				acked[w] = append(acked[w], id)
				total.Add(1)
			}
		}(w)
	}
	for deadline := time.Now().Add(30 * time.Second); total.Load() < 200 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exit after SIGTERM: %v (want exit code 0)", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("server did not exit within 90s of SIGTERM")
	}
	wg.Wait()
	select {
	case code := <-closeCode:
		if code != websocket.StatusGoingAway {
			t.Fatalf("WebSocket close code %d, want 1001", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WebSocket not closed")
	}
	if _, err := os.Stat(filepath.Join(p.dataDir, "CLEAN_SHUTDOWN")); err != nil {
		t.Fatalf("no clean-shutdown marker: %v", err)
	}
	// Pebble's LOCK is released and the start is clean (nothing to replay).
	st, err := hot.Open(hot.Options{Dir: p.dataDir, CacheBytes: 8 << 20, MemtableBytes: 8 << 20})
	if err != nil {
		t.Fatalf("reopening the data dir after SIGTERM: %v", err)
	}
	if !st.CleanStart {
		t.Fatal("reopen after SIGTERM is not a clean start")
	}
	if err := st.CloseClean(); err != nil {
		t.Fatal(err)
	}

	startProcess(t, p.bin, p.dataDir, p.port)
	root := client.New(p.url)
	if _, err := root.Login(ctx, "root", rootPW); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ids := range acked {
		n += len(ids)
	}
	if n < 200 {
		t.Fatalf("only %d writes acknowledged before SIGTERM", n)
	}
	for _, table := range []string{"g.s", "g.u"} {
		have := map[string]bool{}
		for from := int64(-1); ; {
			rows, err := root.Rows(ctx, "SELECT id FROM "+table+" WHERE id > $1 ORDER BY id LIMIT 1000", from)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				have[fmt.Sprint(r[0])] = true
				from, _ = strconv.ParseInt(fmt.Sprint(r[0]), 10, 64)
			}
			if len(rows) < 1000 {
				break
			}
		}
		for _, ids := range acked {
			for _, id := range ids {
				if !have[strconv.Itoa(id)] {
					t.Fatalf("%s: acknowledged row %d lost after SIGTERM", table, id)
				}
			}
		}
	}
	rows, err := root.Rows(ctx, "SELECT status, rows_affected FROM system.jobs WHERE job_type = 'flush' AND trigger = 'shutdown' AND table_name = 's'")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][0] != "completed" {
		t.Fatalf("shutdown flush job: %v", rows)
	}
	t.Logf("%d rows acknowledged before SIGTERM; shutdown flush moved %v rows", n, rows[0][1])
}
