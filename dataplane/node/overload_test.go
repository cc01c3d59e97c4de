package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// Overload: subscribers that stop reading must not exhaust the server's
// memory nor slow anyone else down (docs/websocket.md, "Backpressure").
// The server runs in a child process so its peak RSS (VmHWM) is its own.

const (
	overloadStalled = 200
	overloadRows    = 2000
	overloadRowSize = 64 << 10
	// overloadHeadroom is what the ceiling allows above the idle server's
	// RSS besides the global queue budget: the distinct events in flight
	// (each encoded once and shared by every queue that holds it), the
	// fast connection's frames, request bodies and Pebble's memtables
	// (8 MiB each in the test config), and garbage not yet collected.
	overloadHeadroom = 192 << 20
	// overloadMemLimit is the Go soft memory limit the child runs with:
	// what ApplyMemoryLimit sets in a pod whose memory limit is the
	// ceiling below (90% of it). Without a soft limit the collector lets
	// the heap grow to twice what is live before it runs (GOGC=100).
	overloadMemLimit = 480 << 20
)

// liveConn is a minimal WebSocket subscriber that does not decode what it
// reads (200 of them share the test's two cores with the server).
type liveConn struct {
	c *websocket.Conn
}

// dialLive connects, authenticates and subscribes to sql; small makes
// the socket's receive buffer tiny, as for a client that stops reading.
func dialLive(t *testing.T, addr, token, sql string, small bool) *liveConn {
	t.Helper()
	d := &net.Dialer{}
	if small {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			if err != nil {
				return err
			}
			return serr
		}
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/v1/ws?compress=false", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	lc := &liveConn{c: c}
	lc.write(t, map[string]any{"type": "authenticate", "method": "jwt", "token": token})
	lc.until(t, `"type":"auth_success"`)
	lc.write(t, map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "s", "sql": sql}})
	lc.until(t, `"status":"ready"`)
	return lc
}

func (lc *liveConn) write(t *testing.T, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lc.c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// until reads messages until one contains marker.
func (lc *liveConn) until(t *testing.T, marker string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		_, data, err := lc.c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", marker, err)
		}
		if strings.Contains(string(data), marker) {
			return
		}
	}
}

// outcome drains a stalled subscriber once it reads again: what ended
// it. "overflow" (its subscription ended with OVERFLOW), "shed"
// (OVERLOADED and close code 1013), or a description of anything else.
func (lc *liveConn) outcome(d time.Duration) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	rows := 0
	for {
		_, data, err := lc.c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == 1013 {
				return "shed", rows
			}
			return fmt.Sprintf("closed (%v) without OVERFLOW or OVERLOADED", err), rows
		}
		head := data[:min(len(data), 200)]
		switch {
		case bytes.Contains(head, []byte(`"type":"change"`)):
			rows += bytes.Count(data, []byte(`"_seq"`))
		case bytes.Contains(head, []byte(`"code":"OVERFLOW"`)):
			return "overflow", rows
		case bytes.Contains(head, []byte(`"code":"OVERLOADED"`)):
			// The close with 1013 follows.
		default:
			return fmt.Sprintf("unexpected message %.200s", data), rows
		}
	}
}

// TestOverloadStalledSubscribers: 200 subscribers that stopped reading
// and one fast one on a shared table, a writer inserting 2,000 rows of
// 64 KiB. The server's peak RSS stays under its idle RSS plus the global
// queue budget plus a fixed headroom; the fast subscriber gets every
// event; every stalled one ends with OVERFLOW or is shed (OVERLOADED,
// 1013); another user's SELECT keeps answering; the writer's p99 stays
// within twice that of a run without subscribers.
func TestOverloadStalledSubscribers(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	cfg := testConfig(filepath.Join(t.TempDir(), "data"))
	cfg.RateLimit.MaxConnectionsPerIP = 0
	// Stalled clients neither read nor ping: keep the write and idle
	// timeouts from closing them before the budgets act.
	cfg.WebSocket.WriteTimeoutSeconds = 300
	cfg.WebSocket.IdleTimeoutSeconds = 300
	ch := startChild(t, helperSpec{Config: cfg, Env: []string{fmt.Sprintf("GOMEMLIMIT=%dB", overloadMemLimit)}})
	root := client.New("http://" + ch.addr)
	if _, err := root.Login(ctx(t), "root", rootPW); err != nil {
		t.Fatal(err)
	}
	mustSQL(t, root, `CREATE NAMESPACE o;
		CREATE SHARED TABLE o.big (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
		CREATE SHARED TABLE o.base (id BIGINT PRIMARY KEY, v TEXT);
		CREATE USER TABLE o.notes (id BIGINT PRIMARY KEY, body TEXT);
		CREATE USER 'sub' WITH PASSWORD 'sub-password-1' ROLE user;
		CREATE USER 'other' WITH PASSWORD 'other-password-1' ROLE user`)
	sub := client.New("http://" + ch.addr)
	if _, err := sub.Login(ctx(t), "sub", "sub-password-1"); err != nil {
		t.Fatal(err)
	}
	other := client.New("http://" + ch.addr)
	if _, err := other.Login(ctx(t), "other", "other-password-1"); err != nil {
		t.Fatal(err)
	}
	mustSQL(t, other, "INSERT INTO o.notes (id, body) VALUES (1, 'mine')")
	payload := strings.Repeat("x", overloadRowSize)
	insertRows := func(table string, from, n int) []time.Duration {
		lat := make([]time.Duration, 0, n)
		for i := from; i < from+n; i++ {
			start := time.Now()
			mustSQL(t, root, "INSERT INTO "+table+" (id, v) VALUES ($1, $2)", i, payload)
			lat = append(lat, time.Since(start))
		}
		return lat
	}
	// The writer's latency without subscribers (same row size, another
	// table, so o.big starts empty).
	baseP99 := p99(insertRows("o.base", 0, 400))
	idleRSS := ch.peakRSS(t)

	fast := dialLive(t, ch.addr, sub.Token, "SELECT * FROM o.big", false)
	stalled := make([]*liveConn, overloadStalled)
	for i := range stalled {
		stalled[i] = dialLive(t, ch.addr, sub.Token, "SELECT * FROM o.big", true)
	}
	// The fast subscriber counts rows; the other user's SELECTs run all along.
	var fastRows atomic.Int64
	fastDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		for fastRows.Load() < overloadRows {
			_, data, err := fast.c.Read(ctx)
			if err != nil {
				fastDone <- err
				return
			}
			if bytes.Contains(data[:min(len(data), 200)], []byte(`"type":"change"`)) {
				fastRows.Add(int64(bytes.Count(data, []byte(`"_seq"`))))
			} else {
				fastDone <- fmt.Errorf("fast subscriber got %.300s", data)
				return
			}
		}
		fastDone <- nil
	}()
	stopSelects := make(chan struct{})
	var selects sync.WaitGroup
	var selectMax time.Duration
	var selectErr error
	var selectCount int
	selects.Go(func() {
		for {
			select {
			case <-stopSelects:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := other.SQL(c, "SELECT * FROM o.notes")
			cancel()
			if err != nil && selectErr == nil {
				selectErr = err
			}
			selectMax = max(selectMax, time.Since(start))
			selectCount++
		}
	})
	lat := insertRows("o.big", 0, overloadRows)
	loadP99 := p99(lat)
	var fastErr error
	select {
	case fastErr = <-fastDone:
	case <-time.After(30 * time.Second):
		fastErr = fmt.Errorf("still waiting 30 s after the last insert")
	}
	if fastErr != nil {
		log := ch.stderr.String()
		t.Errorf("fast subscriber got %d of %d rows: %v\nserver log (tail):\n%s", fastRows.Load(), overloadRows, fastErr, log[max(0, len(log)-4000):])
	}
	close(stopSelects)
	selects.Wait()
	peak := ch.peakRSS(t)
	budget := int64(cfg.WebSocket.MaxQueuedBytesTotal)
	ceiling := idleRSS + budget + overloadHeadroom
	t.Logf("peak RSS %d MiB (idle %d MiB, ceiling %d MiB = idle + budget %d MiB + headroom %d MiB)",
		peak>>20, idleRSS>>20, ceiling>>20, budget>>20, overloadHeadroom>>20)
	t.Logf("writer p99 %s with %d stalled + 1 fast subscriber, %s without (ratio %.2f)",
		loadP99, overloadStalled, baseP99, float64(loadP99)/float64(baseP99))
	t.Logf("other user's SELECT: %d answered, slowest %s", selectCount, selectMax)
	if peak > ceiling {
		t.Errorf("peak RSS %d MiB over the ceiling %d MiB", peak>>20, ceiling>>20)
	}
	// The bound is 2x; the 100 ms slack absorbs the noise of two
	// shared cores (the ratio is reported above; measured 0.85-1.8).
	if loadP99 > 2*baseP99+100*time.Millisecond {
		t.Errorf("writer p99 %s with subscribers, over twice the %s without", loadP99, baseP99)
	}
	if selectErr != nil || selectCount == 0 {
		t.Errorf("another user's SELECT failed: %v (%d answered)", selectErr, selectCount)
	}
	// Every stalled subscriber, reading again, learns it fell behind.
	outcomes := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, lc := range stalled {
		wg.Go(func() {
			o, _ := lc.outcome(60 * time.Second)
			mu.Lock()
			outcomes[o]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("stalled subscribers: %v", outcomes)
	_, body, err := root.Do(ctx(t), "GET", "/metrics", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(body)
	for _, name := range []string{"kalamdb_live_connections_shed_total", "kalamdb_live_queued_bytes{class=\"backlogged\"}", "kalamdb_live_subscriptions_overflowed_total"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// A shed connection whose client does not read at all cannot be sent
	// the OVERLOADED error: its socket is closed under the blocked writer
	// (docs/websocket.md, "Backpressure"). Such closes must all be
	// accounted for by the server's shed counter.
	shed := int(metricValue(t, metrics, "kalamdb_live_connections_shed_total"))
	abrupt := 0
	for o, n := range outcomes {
		switch {
		case o == "overflow", o == "shed":
		case strings.HasPrefix(o, "closed ("):
			abrupt += n
		default:
			t.Errorf("%d stalled subscribers: %s", n, o)
		}
	}
	if outcomes["shed"]+abrupt > shed {
		t.Errorf("%d stalled subscribers saw 1013 and %d an abrupt close, but the server shed only %d", outcomes["shed"], abrupt, shed)
	}
}

// p99 returns the 99th percentile of lat.
func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}
