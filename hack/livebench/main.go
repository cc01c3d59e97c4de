// Command livebench measures live queries over WebSocket on loopback: it
// starts `kalamdb server` on a fresh data dir (or uses --url), then runs
//
//   - latency:    1 subscriber, inserts paced at --rate; insert start -> event read
//   - fanout:     --subs subscribers (one connection each), paced inserts
//   - saturation: --subs subscribers, --writers concurrent writers inserting
//     as fast as the server acknowledges; deliveries/s over the run
//   - hold:       --subs subscribers held open for --hold (inspect the server)
//   - scale:      --conns connections x --per subscriptions over --users
//     users; server RSS before and after, bytes per subscription, then a
//     delivery check on a sample
//
// Server memory (VmRSS) is read from /proc when livebench started the
// server. Every loop is bounded by count and by --timeout; the server it
// started is stopped on exit.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live/wire"
	"github.com/kalamdb/kalamdb-k8s/hack/internal/benchserver"
)

type config struct {
	url, user, password string
	mode                string
	subs, inserts       int
	rate                float64
	writers             int
	conns, per, users   int
	pid                 int
	hold                time.Duration
}

func main() {
	var c config
	bin := flag.String("bin", "bin/kalamdb", "server binary to start (ignored with --url)")
	flag.StringVar(&c.url, "url", "", "existing server URL (loopback only)")
	flag.StringVar(&c.user, "user", "root", "admin user")
	flag.StringVar(&c.password, "password", "livebench-root-pw", "admin password")
	flag.StringVar(&c.mode, "mode", "latency,fanout,saturation", "comma-separated: latency, fanout, saturation, scale")
	flag.IntVar(&c.subs, "subs", 1000, "subscribers for fanout and saturation")
	flag.IntVar(&c.inserts, "inserts", 500, "inserts per latency/fanout run")
	flag.Float64Var(&c.rate, "rate", 0, "inserts per second (default: 100 for latency, 20 for fanout)")
	flag.IntVar(&c.writers, "writers", 4, "concurrent writers for saturation")
	flag.IntVar(&c.conns, "conns", 10000, "connections for scale")
	flag.IntVar(&c.per, "per", 100, "subscriptions per connection for scale")
	flag.IntVar(&c.users, "users", 100, "users for scale")
	flag.DurationVar(&c.hold, "hold", 10*time.Second, "how long hold mode keeps its subscribers")
	flag.StringVar(&serialization, "serialization", "json", "WebSocket serialization: json or msgpack (binary frames after login)")
	timeout := flag.Duration("timeout", 20*time.Minute, "hard limit for the whole run")
	flag.Parse()
	if serialization != "json" && serialization != "msgpack" {
		fmt.Fprintln(os.Stderr, "livebench: --serialization must be json or msgpack")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if c.url == "" {
		srv, err := benchserver.Start("livebench", *bin, c.password, "KALAMDB_BCRYPT_COST=4",
			"KALAMDB_WEBSOCKET_MAX_CONNECTIONS=20000", "KALAMDB_RATE_LIMIT_AUTH_REQUESTS_PER_IP_PER_SEC=0", "KALAMDB_WEBSOCKET_MAX_SUBSCRIPTIONS_PER_USER=1000000")
		if err != nil {
			fmt.Fprintln(os.Stderr, "livebench:", err)
			os.Exit(1)
		}
		defer srv.Stop()
		c.url, c.pid = srv.URL, srv.PID
	}
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "livebench:", err)
		os.Exit(1)
	}
}

// serialization is the WebSocket serialization every subscriber negotiates.
var serialization = "json"

// cpuTicks reads a process's user+system CPU time in clock ticks (1/100 s).
func cpuTicks(pid int) int64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// rssMB reads a process's resident set size.
func rssMB(pid int) float64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func run(ctx context.Context, c config) error {
	root := client.New(c.url)
	if _, err := root.Login(ctx, c.user, c.password); err != nil {
		return err
	}
	fmt.Printf("livebench: %s, load average %s\n", c.url, loadAvg())
	for _, m := range strings.Split(c.mode, ",") {
		if err := reset(ctx, root); err != nil {
			return err
		}
		var err error
		switch strings.TrimSpace(m) {
		case "latency":
			rate := c.rate
			if rate == 0 {
				rate = 100
			}
			err = fanout(ctx, c, root, "latency (W5-like)", 1, c.inserts, rate)
		case "fanout":
			rate := c.rate
			if rate == 0 {
				rate = 20
			}
			err = fanout(ctx, c, root, "fanout (W6-like)", c.subs, min(c.inserts, 200), rate)
		case "saturation":
			err = saturation(ctx, c, root)
		case "scale":
			err = scale(ctx, c, root)
		case "hold":
			err = hold(ctx, c, root)
		default:
			err = fmt.Errorf("unknown mode %q", m)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	return nil
}

const table = "bench.live"

func reset(ctx context.Context, root *client.Client) error {
	_, err := root.SQL(ctx, `CREATE NAMESPACE IF NOT EXISTS bench;
		DROP TABLE IF EXISTS `+table+`;
		CREATE USER TABLE `+table+` (id BIGINT PRIMARY KEY, conversation_id TEXT NOT NULL, body TEXT NOT NULL, sent_ns BIGINT NOT NULL)`)
	return err
}

// sub is one subscriber connection; onRows is called from its reader
// goroutine for every change row (id, sent_ns).
type sub struct {
	c    *websocket.Conn
	done chan struct{}
}

type changeMsg struct {
	Type       string `json:"type"`
	ChangeType string `json:"change_type"`
	Code       string `json:"code"`
	Rows       []struct {
		ID     json.Number `json:"id"`
		SentNs json.Number `json:"sent_ns"`
	} `json:"rows"`
}

// dial opens an authenticated connection and subscribes to each query
// (ids q0..qN), waiting for every subscription's initial data.
func dial(ctx context.Context, url, token string, queries []string, onRow func(id, sentNs int64, at time.Time)) (*sub, error) {
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "/v1/ws?compress=false"
	c, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(16 << 20)
	fail := func(err error) (*sub, error) {
		c.CloseNow()
		return nil, err
	}
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "authenticate", "method": "jwt", "token": token,
		"protocol": map[string]string{"serialization": serialization, "compression": "none"}}); err != nil {
		return fail(err)
	}
	for i, q := range queries {
		if err := send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "q" + strconv.Itoa(i), "sql": q}}); err != nil {
			return fail(err)
		}
	}
	ready := 0
	var js []byte
	for ready < len(queries) {
		data, err := readJSON(ctx, c, &js)
		if err != nil {
			return fail(err)
		}
		var m struct {
			Type         string `json:"type"`
			Message      string `json:"message"`
			BatchControl struct {
				HasMore bool `json:"has_more"`
			} `json:"batch_control"`
		}
		_ = json.Unmarshal(data, &m)
		switch m.Type {
		case "initial_data_batch":
			if m.BatchControl.HasMore {
				return fail(errors.New("benchmark subscriptions expect one initial batch"))
			}
			ready++
		case "error", "auth_error":
			return fail(fmt.Errorf("%s", data))
		}
	}
	s := &sub{c: c, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		var js []byte
		for {
			data, err := readJSON(context.Background(), c, &js)
			if errors.Is(err, errBadFrame) {
				fmt.Fprintf(os.Stderr, "livebench: %v\n", err)
				continue
			}
			if err != nil {
				return
			}
			at := time.Now()
			var m changeMsg
			if json.Unmarshal(data, &m) != nil {
				continue
			}
			if m.Type == "error" {
				fmt.Fprintf(os.Stderr, "livebench: subscription error: %s\n", data)
				continue
			}
			if m.Type != "change" || m.ChangeType != "insert" {
				continue
			}
			for _, r := range m.Rows {
				id, _ := r.ID.Int64()
				ns, _ := r.SentNs.Int64()
				onRow(id, ns, at)
			}
		}
	}()
	return s, nil
}

// errBadFrame marks a binary frame that is not valid MessagePack.
var errBadFrame = errors.New("bad MessagePack frame")

// readJSON reads one message as JSON: binary (MessagePack) frames are
// transcoded into *buf (about 0.4 µs a change frame, inside the measured
// latency; on a shared machine the client's extra CPU can lower the
// saturation rate, so compare server CPU per delivery).
func readJSON(ctx context.Context, c *websocket.Conn, buf *[]byte) ([]byte, error) {
	typ, data, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageBinary {
		return data, err
	}
	if *buf, err = wire.AppendJSONFromMsgpack((*buf)[:0], data); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadFrame, err)
	}
	return *buf, nil
}

func (s *sub) close() {
	s.c.CloseNow()
	<-s.done
}

// pingSet sends an application ping to every member every 5 s (the
// server closes connections idle for idle_timeout_seconds) until stop.
type pingSet struct {
	mu       sync.Mutex
	subs     []*sub
	done     chan struct{}
	finished chan struct{}
}

func newPingSet() *pingSet {
	p := &pingSet{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(p.finished)
		tk := time.NewTicker(5 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-tk.C:
			}
			p.mu.Lock()
			subs := slices.Clone(p.subs)
			p.mu.Unlock()
			for _, s := range subs {
				_ = s.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ping"}`))
			}
		}
	}()
	return p
}

func (p *pingSet) add(s *sub) {
	if s == nil {
		return
	}
	p.mu.Lock()
	p.subs = append(p.subs, s)
	p.mu.Unlock()
}

func (p *pingSet) stop() { close(p.done); <-p.finished }

// pinger pings subs until the returned func is called.
func pinger(subs []*sub) (stop func()) {
	p := newPingSet()
	for _, s := range subs {
		p.add(s)
	}
	return p.stop
}

// openSubs opens n subscriber connections, 32 dials at a time.
func openSubs(ctx context.Context, url, token string, n int, queries []string, onRow func(sub int, id, sentNs int64, at time.Time)) ([]*sub, error) {
	subs := make([]*sub, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			subs[i], errs[i] = dial(ctx, url, token, queries, func(id, ns int64, at time.Time) { onRow(i, id, ns, at) })
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range subs {
			if s != nil {
				s.close()
			}
		}
		return nil, err
	}
	return subs, nil
}

func insertSQL(id int64, conv string) string {
	return fmt.Sprintf("INSERT INTO %s (id, conversation_id, body, sent_ns) VALUES (%d, '%s', '%s', %d)",
		table, id, conv, strings.Repeat("x", 100), time.Now().UnixNano())
}

// deliveries records what subscribers of every row receive: the latency
// from the row's sent_ns to its arrival, how many arrived, and when the
// last one did.
type deliveries struct {
	mu        sync.Mutex
	lat       []time.Duration
	got, last atomic.Int64
}

// subscribe opens n subscribers of every row of the table, recording into
// d, and keeps them pinged; closeSubs stops and closes them.
func (d *deliveries) subscribe(ctx context.Context, c config, root *client.Client, n int) (closeSubs func(), err error) {
	subs, err := openSubs(ctx, c.url, root.Token, n, []string{"SELECT * FROM " + table}, func(_ int, _, ns int64, at time.Time) {
		l := at.Sub(time.Unix(0, ns))
		d.mu.Lock()
		d.lat = append(d.lat, l)
		d.mu.Unlock()
		d.got.Add(1)
		d.last.Store(at.UnixNano())
	})
	if err != nil {
		return nil, err
	}
	stopPing := pinger(subs)
	return func() {
		stopPing()
		for _, s := range subs {
			s.close()
		}
	}, nil
}

// wait waits until want deliveries arrived or timeout passed.
func (d *deliveries) wait(want int64, timeout time.Duration) {
	for deadline := time.Now().Add(timeout); d.got.Load() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// fanout: n subscribers of every row, inserts paced at rate; latency is
// from just before the insert request to the subscriber reading the row
// (same clock: one process).
func fanout(ctx context.Context, c config, root *client.Client, name string, n, inserts int, rate float64) error {
	d := &deliveries{lat: make([]time.Duration, 0, n*inserts)}
	closeSubs, err := d.subscribe(ctx, c, root, n)
	if err != nil {
		return err
	}
	defer closeSubs()
	rss := rssMB(c.pid)
	var acks []time.Duration
	interval := time.Duration(float64(time.Second) / rate)
	begin := time.Now()
	for i := 0; i < inserts && ctx.Err() == nil; i++ {
		if w := time.Until(begin.Add(time.Duration(i) * interval)); w > 0 {
			time.Sleep(w)
		}
		t0 := time.Now()
		if _, err := root.SQL(ctx, insertSQL(int64(i+1), "c0")); err != nil {
			return err
		}
		acks = append(acks, time.Since(t0))
	}
	want := int64(n * inserts)
	d.wait(want, 30*time.Second)
	span := time.Duration(d.last.Load() - begin.UnixNano())
	d.mu.Lock()
	defer d.mu.Unlock()
	lat, got := d.lat, &d.got
	fmt.Printf("%-22s subs=%-5d inserts=%-4d @%4.0f/s  delivery p50=%7.3f ms p99=%7.3f ms  ack p50=%6.3f ms p99=%6.3f ms  %8.0f deliveries/s  missing=%d  server RSS=%.0f MB  load %s\n",
		name, n, inserts, rate, pct(lat, 0.5), pct(lat, 0.99), pct(acks, 0.5), pct(acks, 0.99),
		float64(got.Load())/span.Seconds(), want-got.Load(), rss, loadAvg())
	return nil
}

// saturation: n subscribers, writers inserting as fast as acknowledged for
// a fixed number of rows; reports deliveries/s from the first insert to
// the last delivery, and delivery latency under that load.
func saturation(ctx context.Context, c config, root *client.Client) error {
	n := c.subs
	const rows = 1000
	d := &deliveries{lat: make([]time.Duration, 0, n*rows)}
	closeSubs, err := d.subscribe(ctx, c, root, n)
	if err != nil {
		return err
	}
	defer closeSubs()
	var next atomic.Int64
	cpu0 := cpuTicks(c.pid)
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, c.writers)
	var maxRSS float64
	stopRSS := make(chan struct{})
	rssDone := make(chan struct{})
	go func() {
		defer close(rssDone)
		for {
			maxRSS = max(maxRSS, rssMB(c.pid))
			select {
			case <-stopRSS:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	for w := range c.writers {
		wg.Go(func() {
			hc := client.New(c.url)
			hc.Token = root.Token
			for {
				id := next.Add(1)
				if id > rows || ctx.Err() != nil {
					return
				}
				if _, err := hc.SQL(ctx, insertSQL(id, "c0")); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	insertSpan := time.Since(begin)
	want := int64(n * rows)
	d.wait(want, 60*time.Second)
	cpu := cpuTicks(c.pid) - cpu0
	close(stopRSS)
	<-rssDone
	if err := errors.Join(errs...); err != nil {
		return err
	}
	span := time.Duration(d.last.Load() - begin.UnixNano())
	d.mu.Lock()
	defer d.mu.Unlock()
	lat, got := d.lat, &d.got
	perDelivery := "n/a"
	if c.pid != 0 && got.Load() > 0 {
		perDelivery = fmt.Sprintf("%.2f us", float64(cpu)*1e4/float64(got.Load()))
	}
	fmt.Printf("%-22s %s subs=%-5d inserts=%-4d writers=%d  %.0f inserts/s  delivery p50=%7.3f ms p99=%7.3f ms  %8.0f deliveries/s  missing=%d  server CPU/delivery %s  max server RSS=%.0f MB  load %s\n",
		"saturation", serialization, n, rows, c.writers, rows/insertSpan.Seconds(), pct(lat, 0.5), pct(lat, 0.99),
		float64(got.Load())/span.Seconds(), want-got.Load(), perDelivery, maxRSS, loadAvg())
	return nil
}

// scale: conns connections x per subscriptions. Users u0..u(users-1)
// each own conns/users connections; on every connection subscription k
// watches conversation c<k>, so each (user, conversation) has
// conns/users subscribers spread over as many connections.
func scale(ctx context.Context, c config, root *client.Client) error {
	if c.conns%c.users != 0 {
		return fmt.Errorf("--conns must be a multiple of --users")
	}
	tokens := make([]string, c.users)
	for u := range c.users {
		name := fmt.Sprintf("lb%d", u)
		if _, err := root.SQL(ctx, fmt.Sprintf("CREATE USER IF NOT EXISTS '%s' WITH PASSWORD 'livebench-pw' ROLE user", name)); err != nil {
			return err
		}
		hc := client.New(c.url)
		if _, err := hc.Login(ctx, name, "livebench-pw"); err != nil {
			return err
		}
		tokens[u] = hc.Token
	}
	queries := make([]string, c.per)
	for k := range c.per {
		queries[k] = fmt.Sprintf("SELECT * FROM %s WHERE conversation_id = 'c%d'", table, k)
	}
	before := rssMB(c.pid)
	perUser := c.conns / c.users
	var got atomic.Int64
	conns := make([]*sub, c.conns)
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, c.conns)
	sem := make(chan struct{}, 64)
	var opened atomic.Int64
	pings := newPingSet() // from the first connection on: setup outlasts the idle timeout
	for i := range c.conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			conns[i], errs[i] = dial(ctx, c.url, tokens[i/perUser], queries, func(_, _ int64, _ time.Time) { got.Add(1) })
			pings.add(conns[i])
			if n := opened.Add(1); n%1000 == 0 {
				fmt.Printf("  %d connections, %d subscriptions open (%.0fs, server RSS %.0f MB)\n", n, n*int64(c.per), time.Since(start).Seconds(), rssMB(c.pid))
			}
		})
	}
	wg.Wait()
	defer func() {
		pings.stop()
		for _, s := range conns {
			if s != nil {
				s.close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	setup := time.Since(start)
	time.Sleep(2 * time.Second) // let the heap settle
	after := rssMB(c.pid)
	total := c.conns * c.per
	fmt.Printf("%-22s %d connections x %d = %d subscriptions (%d users) in %.1fs; server RSS %.0f -> %.0f MB = %.0f bytes/subscription (incl. connections); load %s\n",
		"scale", c.conns, c.per, total, c.users, setup.Seconds(), before, after, (after-before)*1024*1024/float64(total), loadAvg())
	// Delivery check: one row per user in conversation c0 reaches the
	// perUser subscribers of (user, c0).
	var lat []time.Duration
	for u := range min(c.users, 20) {
		hc := client.New(c.url)
		hc.Token = tokens[u]
		want := got.Load() + int64(perUser)
		t0 := time.Now()
		if _, err := hc.SQL(ctx, insertSQL(int64(u+1), "c0")); err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); got.Load() < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if got.Load() < want {
			return fmt.Errorf("user %d: %d of %d deliveries", u, got.Load()-want+int64(perUser), perUser)
		}
		lat = append(lat, time.Since(t0))
	}
	fmt.Printf("%-22s insert -> all %d subscribers of that (user, conversation) notified: p50=%.3f ms max=%.3f ms over %d inserts; server RSS %.0f MB\n",
		"scale delivery", perUser, pct(lat, 0.5), pct(lat, 1), len(lat), rssMB(c.pid))
	return nil
}

// hold opens --subs subscribers and keeps them for --hold.
func hold(ctx context.Context, c config, root *client.Client) error {
	subs, err := openSubs(ctx, c.url, root.Token, c.subs, []string{"SELECT * FROM " + table}, func(int, int64, int64, time.Time) {})
	if err != nil {
		return err
	}
	fmt.Printf("hold: %d subscribers open for %s (server RSS %.0f MB)\n", c.subs, c.hold, rssMB(c.pid))
	stopPing := pinger(subs)
	select {
	case <-time.After(c.hold):
	case <-ctx.Done():
	}
	stopPing()
	for _, s := range subs {
		s.close()
	}
	return nil
}
