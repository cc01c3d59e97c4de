package chaos

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// A Jepsen-style test on loopback: concurrent clients write and read a
// set of registers and append to a ledger through all three nodes while
// the test kills -9 a random node and restarts it, kills the leader of
// the workload's Raft group, pauses a node or the group's leader
// (SIGSTOP/SIGCONT: a paused leader must not answer a stale read after it
// resumes), and moves the leadership of the workload's groups (meta and
// shared) with the operator's transfer-leader API. Besides the mixed
// clients, reader clients read through the same node at the same time,
// so their linearizable reads share ReadIndex calls
// (dataplane/replication/readindex.go). The register history is checked
// for linearizability with porcupine; every acknowledged ledger insert
// must be on every node at the end.

var (
	flagCycles   = flag.Int("chaos.cycles", 50, "fault cycles to run (make test)")
	flagDuration = flag.Duration("chaos.duration", 0, "run fault cycles for this long instead of -chaos.cycles (make chaos)")
)

const (
	registers = 6
	clients   = 4
	// readers read only, all through one node at a time (it changes
	// every readerSwitch), so that their reads overlap on that node.
	readers      = 2
	readerSwitch = 500 * time.Millisecond
)

type kvInput struct {
	write bool
	key   int
	value int64
}

// kvModel is a set of integer registers, partitioned by key.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).key
			by[k] = append(by[k], op)
		}
		keys := make([]int, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(kvInput)
		if in.write {
			return true, in.value
		}
		return output.(int64) == state.(int64), state
	},
	Equal: func(a, b any) bool { return a.(int64) == b.(int64) },
	DescribeOperation: func(input, output any) string {
		in := input.(kvInput)
		if in.write {
			return fmt.Sprintf("put(%d, %d)", in.key, in.value)
		}
		return fmt.Sprintf("get(%d) -> %v", in.key, output)
	},
}

// history records operations; an operation whose outcome is unknown
// (timeout, NO_QUORUM, connection lost) keeps an infinite return time.
type history struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	acked []int64 // ledger ids acknowledged
	stats struct{ writes, reads, unknown, refused int }
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

func TestChaos(t *testing.T) {
	c := startCluster(t, 2)
	ctx := context.Background()
	admin := c.loginAll(5 * time.Second)
	for _, q := range []string{
		"CREATE SHARED TABLE default.kv (k INT PRIMARY KEY, v BIGINT NOT NULL)",
		"CREATE SHARED TABLE default.ledger (id BIGINT PRIMARY KEY)",
	} {
		if _, err := admin[0].SQL(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for k := range registers {
		if _, err := admin[1].SQL(ctx, fmt.Sprintf("INSERT INTO default.kv (k, v) VALUES (%d, 0)", k)); err != nil {
			t.Fatal(err)
		}
	}
	// A write through node 2 is visible to a linearizable read on node 3.
	rows, err := admin[2].Rows(ctx, "SELECT COUNT(*) FROM default.kv")
	if err != nil || len(rows) != 1 || fmt.Sprint(rows[0][0]) != fmt.Sprint(registers) {
		t.Fatalf("read-your-writes across nodes: rows %v, err %v", rows, err)
	}

	h := &history{start: time.Now()}
	var nextValue, nextID atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for ci := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runClient(c, h, ci, &nextValue, &nextID, stop)
		}()
	}
	for ri := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runReader(c, h, clients+1+ri, stop)
		}()
	}

	began := time.Now()
	cycles := 0
	var failovers []time.Duration
	transfers := 0
	for {
		if *flagDuration > 0 {
			if time.Since(began) >= *flagDuration {
				break
			}
		} else if cycles >= *flagCycles {
			break
		}
		switch cycles % 4 {
		case 0: // kill -9 a random node, restart it
			p := c.procs[rand.IntN(len(c.procs))]
			c.kill(p)
			time.Sleep(time.Duration(100+rand.IntN(700)) * time.Millisecond)
			c.start(p)
			c.waitReady(p, 120*time.Second)
		case 1: // kill -9 the leader of the workload's group
			id := c.leaderOf(admin, "shared")
			if id == 0 {
				id = 1 + rand.IntN(len(c.procs))
			}
			p := c.procs[id-1]
			c.kill(p)
			if d, ok := waitNewLeader(c, admin, id); ok {
				failovers = append(failovers, d.Round(time.Millisecond))
			}
			c.start(p)
			c.waitReady(p, 120*time.Second)
		case 2: // pause a node (a partition from everyone's point of view), every other time the leader
			p := c.procs[rand.IntN(len(c.procs))]
			if id := c.leaderOf(admin, "shared"); id != 0 && cycles%8 == 2 {
				p = c.procs[id-1]
			}
			c.signal(p, syscall.SIGSTOP)
			time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
			c.signal(p, syscall.SIGCONT)
		case 3: // move the leadership of meta and shared, as a rolling update does
			transfers += transferLeaders(c, admin, "meta", "shared")
		}
		cycles++
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(began)

	// Final reads on every node, part of the checked history.
	for _, p := range c.procs {
		c.waitReady(p, 60*time.Second)
	}
	for i, cl := range admin {
		cl.HTTP.Timeout = 10 * time.Second
		for k := range registers {
			var call int64
			rows, err := rowsAfterRecovery(func() ([][]any, error) {
				call = h.now()
				return cl.Rows(ctx, fmt.Sprintf("SELECT v FROM default.kv WHERE k = %d", k))
			})
			if err != nil || len(rows) != 1 {
				t.Fatalf("final read of %d on node %d: rows %v, err %v", k, i+1, rows, err)
			}
			h.add(porcupine.Operation{ClientId: clients, Input: kvInput{key: k}, Call: call, Output: toInt(rows[0][0]), Return: h.now()})
		}
	}
	res := porcupine.CheckOperationsTimeout(kvModel, h.ops, 60*time.Second)
	t.Logf("%d fault cycles in %s; %d ops (%d writes, %d reads, %d unknown outcome, %d refused); %d ledger inserts acknowledged; leader failovers observed: %v; leader transfers observed: %d",
		cycles, elapsed.Round(time.Second), len(h.ops), h.stats.writes, h.stats.reads, h.stats.unknown, h.stats.refused, len(h.acked), failovers, transfers)
	switch res {
	case porcupine.Illegal:
		t.Fatalf("history is not linearizable")
	case porcupine.Unknown:
		t.Fatalf("linearizability check timed out (%d ops)", len(h.ops))
	}
	if h.stats.writes == 0 || h.stats.reads == 0 {
		t.Fatalf("the workload made no progress: %d writes, %d reads", h.stats.writes, h.stats.reads)
	}
	for i, cl := range admin {
		present := ledgerIDs(t, cl)
		for _, id := range h.acked {
			if !present[id] {
				t.Errorf("node %d lost acknowledged ledger insert %d", i+1, id)
			}
		}
	}
}

// waitNewLeader waits until a live node reports a leader of the shared
// group other than old, and returns how long that took after the kill.
func waitNewLeader(c *cluster, admin []*client.Client, old int) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if id := c.leaderOf(admin, "shared"); id != 0 && id != old {
			return time.Since(start), true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, false
}

func runClient(c *cluster, h *history, ci int, nextValue, nextID *atomic.Int64, stop <-chan struct{}) {
	cls := make([]*client.Client, len(c.procs))
	for !stopped(stop) {
		cl := nodeClient(c, cls, rand.IntN(len(c.procs)))
		if cl == nil {
			continue
		}
		ctx := context.Background()
		k := rand.IntN(registers)
		switch r := rand.IntN(10); {
		case r < 4: // write
			v := nextValue.Add(1)
			call := h.now()
			_, err := cl.SQL(ctx, fmt.Sprintf("UPDATE default.kv SET v = %d WHERE k = %d", v, k))
			op := porcupine.Operation{ClientId: ci, Input: kvInput{write: true, key: k, value: v}, Call: call, Return: h.now()}
			h.mu.Lock()
			switch {
			case err == nil:
				h.stats.writes++
			case definiteFailure(err):
				h.stats.refused++
				h.mu.Unlock()
				continue
			default:
				h.stats.unknown++
				op.Return = math.MaxInt64
			}
			h.mu.Unlock()
			h.add(op)
		case r < 8: // read
			var call int64
			rows, err := rowsAfterRecovery(func() ([][]any, error) {
				call = h.now()
				return cl.Rows(ctx, fmt.Sprintf("SELECT v FROM default.kv WHERE k = %d", k))
			})
			if err != nil || len(rows) != 1 {
				continue
			}
			h.read(ci, k, call, rows)
		default: // ledger insert
			id := nextID.Add(1)
			if _, err := cl.SQL(ctx, fmt.Sprintf("INSERT INTO default.ledger (id) VALUES (%d)", id)); err == nil {
				h.mu.Lock()
				h.acked = append(h.acked, id)
				h.mu.Unlock()
			}
		}
	}
}

// transferLeaders asks the leader of each group to hand it to another
// replica (through that leader, as the operator does) and waits up to 3 s
// for the move; it returns how many groups moved.
func transferLeaders(c *cluster, admin []*client.Client, groups ...string) int {
	moved := 0
	for _, g := range groups {
		from := c.leaderOf(admin, g)
		if from == 0 {
			continue
		}
		to := (from+rand.IntN(len(c.procs)-1))%len(c.procs) + 1
		body := []byte(fmt.Sprintf(`{"group":%q,"target":%d}`, g, to))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		code, _, err := admin[from-1].Do(ctx, http.MethodPost, "/v1/cluster/transfer-leader", body, true)
		cancel()
		if err != nil || code != http.StatusAccepted {
			continue
		}
		for start := time.Now(); time.Since(start) < 3*time.Second; time.Sleep(20 * time.Millisecond) {
			if c.leaderOf(admin, g) == to {
				moved++
				break
			}
		}
	}
	return moved
}

// runReader reads registers through the node every reader uses in the
// current readerSwitch period, so that concurrent readers' linearizable
// reads overlap on one node.
func runReader(c *cluster, h *history, ci int, stop <-chan struct{}) {
	cls := make([]*client.Client, len(c.procs))
	for !stopped(stop) {
		cl := nodeClient(c, cls, int(time.Since(h.start)/readerSwitch)%len(c.procs))
		if cl == nil {
			continue
		}
		k := rand.IntN(registers)
		call := h.now()
		rows, err := cl.Rows(context.Background(), fmt.Sprintf("SELECT v FROM default.kv WHERE k = %d", k))
		if err != nil || len(rows) != 1 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		h.read(ci, k, call, rows)
	}
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// nodeClient returns the client of node ni from cls, logging in first;
// nil, after a short pause, while the node does not answer.
func nodeClient(c *cluster, cls []*client.Client, ni int) *client.Client {
	if cls[ni] == nil {
		cl, err := c.login(c.procs[ni], 4*time.Second)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			return nil
		}
		cls[ni] = cl
	}
	return cls[ni]
}

// read records a successful read of register k by client ci, called at
// call, that returned rows now.
func (h *history) read(ci, k int, call int64, rows [][]any) {
	ret := h.now()
	h.mu.Lock()
	h.stats.reads++
	h.mu.Unlock()
	h.add(porcupine.Operation{ClientId: ci, Input: kvInput{key: k}, Call: call, Output: toInt(rows[0][0]), Return: ret})
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case string:
		var n int64
		fmt.Sscan(x, &n)
		return n
	}
	var n int64
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// ledgerIDs pages through the ledger on one node.
func ledgerIDs(t *testing.T, cl *client.Client) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	last := int64(0)
	for {
		rows, err := rowsAfterRecovery(func() ([][]any, error) {
			return cl.Rows(context.Background(), fmt.Sprintf("SELECT id FROM default.ledger WHERE id > %d ORDER BY id LIMIT 1000", last))
		})
		if err != nil {
			t.Fatalf("reading the ledger: %v", err)
		}
		for _, r := range rows {
			id := toInt(r[0])
			out[id] = true
			last = max(last, id)
		}
		if len(rows) < 1000 {
			return out
		}
	}
}

// rowsAfterRecovery runs a final read, retrying NO_QUORUM (the retryable
// answer of a replica whose ReadIndex could not complete in time, e.g. on
// starved cores just after the last fault) for up to a minute; any other
// error, or NO_QUORUM past the minute, is returned. A refused read has no
// effect, so only the attempt that answers enters the history.
func rowsAfterRecovery(read func() ([][]any, error)) ([][]any, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		rows, err := read()
		if err == nil || !client.IsCode(err, "NO_QUORUM") || time.Now().After(deadline) {
			return rows, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestModelRejectsStaleRead shows the checker is not vacuous: a read that
// returns an overwritten value after the overwrite was acknowledged is
// reported as not linearizable.
func TestModelRejectsStaleRead(t *testing.T) {
	ops := []porcupine.Operation{
		{ClientId: 0, Input: kvInput{write: true, key: 1, value: 5}, Call: 0, Return: 10},
		{ClientId: 1, Input: kvInput{write: true, key: 1, value: 6}, Call: 20, Return: 30},
		{ClientId: 2, Input: kvInput{key: 1}, Call: 40, Output: int64(5), Return: 50},
	}
	if porcupine.CheckOperations(kvModel, ops) {
		t.Fatal("a stale read was accepted")
	}
	ops[2].Output = int64(6)
	if !porcupine.CheckOperations(kvModel, ops) {
		t.Fatal("a fresh read was rejected")
	}
	// An unknown-outcome write may or may not have happened.
	ops[1].Return = math.MaxInt64
	ops[2].Output = int64(5)
	if !porcupine.CheckOperations(kvModel, ops) {
		t.Fatal("an unknown-outcome write was treated as applied")
	}
}
