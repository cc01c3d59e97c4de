package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// The scale run (issue 22): many subscribers, one connection each, over
// 100 users, and a flood of inserts. Memory stays bounded and the server
// keeps answering another user's SELECT throughout. It runs at full size
// (10,000 connections, ~1 minute on two shared cores) in `make test`;
// KALAMDB_SCALE_CONNS sets another size (`make test-live-scale` names the
// full one). Numbers: docs/benchmarks.md, "Scale run".

const (
	scaleUsers = 100
	// scaleWriters insert concurrently, scaleStatements each, of
	// scaleBatch rows of scaleRowSize bytes into one user's table.
	scaleWriters    = 4
	scaleStatements = 100
	scaleBatch      = 10
	scaleRowSize    = 512
	// scaleHeadroom is what the ceiling allows above the RSS with every
	// subscriber connected, besides the global queue budget: request
	// bodies, Pebble's memtables, the writers' frames, garbage not yet
	// collected.
	scaleHeadroom = 192 << 20
)

// scaleConns is the number of subscribers (KALAMDB_SCALE_CONNS, default
// 10,000; a multiple of scaleUsers).
func scaleConns(t *testing.T) int {
	n := 10000
	if v := os.Getenv("KALAMDB_SCALE_CONNS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 || n%scaleUsers != 0 {
			t.Fatalf("KALAMDB_SCALE_CONNS=%q: want a positive multiple of %d", v, scaleUsers)
		}
	}
	return n
}

// raiseNoFile lifts this process's open-file limit to its hard limit
// (the child server inherits it) and returns how many subscribers it can
// hold on both ends: n, or fewer (a multiple of scaleUsers, logged loudly)
// on a machine whose hard limit is below n plus 1,024 spare descriptors.
// The full-size run is then `make test-live-scale` on a host that allows it.
func raiseNoFile(t *testing.T, n int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if need := uint64(n + 1024); lim.Cur < need {
		fit := (int(lim.Cur) - 1024) / scaleUsers * scaleUsers
		if fit < scaleUsers {
			t.Fatalf("RLIMIT_NOFILE hard limit %d leaves no room for %d subscribers", lim.Max, scaleUsers)
		}
		t.Logf("WARNING: RLIMIT_NOFILE hard limit %d is below the %d a %d-subscriber run needs: running %d subscribers", lim.Max, need, n, fit)
		return fit
	}
	return n
}

// scaleSub is one subscriber: it reads everything, counting rows, until
// its subscription ends (what ended it is kept).
type scaleSub struct {
	lc   *liveConn
	user int
	rows atomic.Int64
	end  atomic.Pointer[string]
}

func (s *scaleSub) read(total *atomic.Int64) {
	for {
		_, data, err := s.lc.c.Read(context.Background())
		if err != nil {
			reason := fmt.Sprintf("closed: %v", err)
			if websocket.CloseStatus(err) == 1013 {
				reason = "shed"
			}
			s.end.CompareAndSwap(nil, &reason)
			return
		}
		head := data[:min(len(data), 200)]
		switch {
		case bytes.Contains(head, []byte(`"type":"change"`)):
			n := int64(bytes.Count(data, []byte(`"_seq"`)))
			s.rows.Add(n)
			total.Add(n)
		case bytes.Contains(head, []byte(`"code":"OVERFLOW"`)):
			reason := "overflow"
			s.end.CompareAndSwap(nil, &reason)
		case bytes.Contains(head, []byte(`"code":"OVERLOADED"`)):
		default:
			reason := fmt.Sprintf("unexpected %.200s", data)
			s.end.CompareAndSwap(nil, &reason)
		}
	}
}

// TestScaleSubscribersFlood: scaleConns subscribers (one connection and
// one subscription each, 100 users, each user's subscribers watching the
// user's own rows of a USER table), then 4 writers insert 4,000 rows of
// 512 bytes as 10-row statements into the users' tables (each row reaches
// the user's 100 subscribers: 400,000 deliveries at 10,000 connections). The server's
// peak RSS stays under its RSS with everyone connected plus the global
// queue budget plus a fixed headroom; every subscriber receives every row
// of its user or is told it fell behind (OVERFLOW, or shed with
// OVERLOADED/1013), never a silent gap; another user's SELECT answers
// all along.
func TestScaleSubscribersFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	conns := raiseNoFile(t, scaleConns(t))
	cfg := testConfig(filepath.Join(t.TempDir(), "data"))
	cfg.RateLimit.MaxConnectionsPerIP = 0
	cfg.RateLimit.MaxWSMessagesPerIPPerSec = 0
	cfg.RateLimit.MaxWSMessagesPerUserPerSec = 0
	// Setup on starved cores can outlast the default idle timeout for
	// the first connections (they do not ping).
	cfg.WebSocket.IdleTimeoutSeconds = 600
	ch := startChild(t, helperSpec{Config: cfg})
	root := client.New("http://" + ch.addr)
	if _, err := root.Login(ctx(t), "root", rootPW); err != nil {
		t.Fatal(err)
	}
	var ddl strings.Builder
	ddl.WriteString(`CREATE NAMESPACE s;
		CREATE USER TABLE s.feed (id BIGINT PRIMARY KEY, body TEXT);
		CREATE USER 'other' WITH PASSWORD 'other-password-1' ROLE user;`)
	for u := range scaleUsers {
		fmt.Fprintf(&ddl, "CREATE USER 'u%d' WITH PASSWORD 'scale-password-1' ROLE user;", u)
	}
	mustSQL(t, root, ddl.String())
	users := make([]*client.Client, scaleUsers)
	for u := range users {
		users[u] = client.New("http://" + ch.addr)
		if _, err := users[u].Login(ctx(t), fmt.Sprintf("u%d", u), "scale-password-1"); err != nil {
			t.Fatal(err)
		}
	}
	other := client.New("http://" + ch.addr)
	if _, err := other.Login(ctx(t), "other", "other-password-1"); err != nil {
		t.Fatal(err)
	}
	mustSQL(t, other, "INSERT INTO s.feed (id, body) VALUES (1, 'mine')")
	idleRSS := ch.peakRSS(t)

	// Subscribers: user i%100, connected 64 at a time.
	subs := make([]*scaleSub, conns)
	start := time.Now()
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	sem := make(chan struct{}, 64)
	for i := range subs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			u := i % scaleUsers
			lc, err := dialLiveErr(ch.addr, users[u].Token, "SELECT * FROM s.feed", false)
			if err != nil {
				errs <- fmt.Errorf("subscriber %d: %w", i, err)
				return
			}
			subs[i] = &scaleSub{lc: lc, user: u}
		})
	}
	wg.Wait()
	close(errs)
	var readers sync.WaitGroup
	t.Cleanup(func() {
		for _, s := range subs {
			if s != nil {
				s.lc.c.CloseNow()
			}
		}
		readers.Wait()
	})
	for err := range errs {
		t.Fatal(err)
	}
	setup := time.Since(start)
	for _, s := range subs {
		readers.Go(func() { s.read(&total) })
	}
	connectedRSS := ch.peakRSS(t)
	t.Logf("%d subscribers (%d users) connected in %s; server RSS %d MiB idle, %d MiB connected (%.1f KiB per connection)",
		conns, scaleUsers, setup.Round(time.Millisecond), idleRSS>>20, connectedRSS>>20, float64(connectedRSS-idleRSS)/1024/float64(conns))

	// Another user's SELECTs run every 100 ms from now to the end.
	selects := startEvery(100*time.Millisecond, func() error {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := other.SQL(c, "SELECT * FROM s.feed")
		if err == nil && len(res.Results) > 0 && len(res.Results[0].Rows) != 1 {
			err = fmt.Errorf("other user's SELECT saw %d rows, want its 1", len(res.Results[0].Rows))
		}
		return err
	})

	// The flood: writer w inserts into users w, w+4, w+8, ...
	perUser := make([]atomic.Int64, scaleUsers)
	body := strings.Repeat("y", scaleRowSize)
	var writeErr atomic.Pointer[error]
	floodStart := time.Now()
	var writers sync.WaitGroup
	for w := range scaleWriters {
		writers.Go(func() {
			for k := range scaleStatements {
				u := (w + k*scaleWriters) % scaleUsers
				var sql strings.Builder
				sql.WriteString("INSERT INTO s.feed (id, body) VALUES ")
				for r := range scaleBatch {
					if r > 0 {
						sql.WriteString(", ")
					}
					fmt.Fprintf(&sql, "(%d, '%s')", 1_000_000+(w*scaleStatements+k)*scaleBatch+r, body)
				}
				c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err := users[u].SQL(c, sql.String())
				cancel()
				if err != nil {
					writeErr.CompareAndSwap(nil, &err)
					return
				}
				perUser[u].Add(scaleBatch)
			}
		})
	}
	writers.Wait()
	flood := time.Since(floodStart)
	if err := writeErr.Load(); err != nil {
		t.Fatalf("insert: %v", *err)
	}
	// Every subscriber gets every row of its user or an ending; wait
	// while deliveries progress.
	var want int64
	for _, s := range subs {
		want += perUser[s.user].Load()
	}
	done := make(chan error, 1)
	go func() {
		for {
			settled := true
			for _, s := range subs {
				if s.end.Load() == nil && s.rows.Load() < perUser[s.user].Load() {
					settled = false
					break
				}
			}
			if settled {
				done <- nil
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if err := waitProgress(done, total.Load, 30*time.Second); err != nil {
		t.Errorf("deliveries: %d of %d rows: %v", total.Load(), want, err)
	}
	deliver := time.Since(floodStart)
	selects.stop()

	peak := ch.peakRSS(t)
	budget := int64(cfg.WebSocket.MaxQueuedBytesTotal)
	ceiling := connectedRSS + budget + scaleHeadroom
	outcomes := map[string]int{}
	for _, s := range subs {
		switch e := s.end.Load(); {
		case e != nil:
			outcomes[*e]++
		case s.rows.Load() == perUser[s.user].Load():
			outcomes["all rows"]++
		default:
			outcomes[fmt.Sprintf("%d of %d rows, no ending", s.rows.Load(), perUser[s.user].Load())]++
		}
	}
	t.Logf("flood: %d rows in %s (%.0f rows/s), %d deliveries of %d expected in %s (%.0f/s)",
		scaleWriters*scaleStatements*scaleBatch, flood.Round(time.Millisecond), float64(scaleWriters*scaleStatements*scaleBatch)/flood.Seconds(),
		total.Load(), want, deliver.Round(time.Millisecond), float64(total.Load())/deliver.Seconds())
	t.Logf("peak RSS %d MiB (connected %d MiB, ceiling %d MiB = connected + budget %d MiB + headroom %d MiB)",
		peak>>20, connectedRSS>>20, ceiling>>20, budget>>20, scaleHeadroom>>20)
	t.Logf("other user's SELECT: %d answered, slowest %s; subscribers: %v", selects.count, selects.slowest, outcomes)
	if peak > ceiling {
		t.Errorf("peak RSS %d MiB over the ceiling %d MiB", peak>>20, ceiling>>20)
	}
	if selects.err != nil || selects.count == 0 {
		t.Errorf("another user's SELECT failed: %v (%d answered)", selects.err, selects.count)
	}
	for o, n := range outcomes {
		switch o {
		case "all rows", "overflow", "shed":
		default:
			t.Errorf("%d subscribers: %s", n, o)
		}
	}
}
