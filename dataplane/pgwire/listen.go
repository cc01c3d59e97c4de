package pgwire

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// Live queries over the wire: SUBSCRIBE TO (run as over HTTP) describes a
// subscription and names it (subscription_id); LISTEN "<subscription_id>"
// opens it on this connection through the live-query manager — the
// WebSocket's planner, isolation, filters, batching and overflow rules —
// and every message the WebSocket would carry (initial_data_batch,
// change, error) arrives as a NotificationResponse on that channel with
// the message's JSON as payload. Notifications are sent only while the
// connection is idle, as PostgreSQL does.

// liveQueueSize bounds queued live messages per connection (as the
// WebSocket's queue_size: a subscription that overflows it is ended with
// an OVERFLOW error notification).
const liveQueueSize = 1024

// listener is the connection's live-query state.
type listener struct {
	conn    *live.Conn
	out     *live.Outbox
	mu      sync.Mutex
	active  map[string]bool // LISTENed subscription ids
	stop    chan struct{}
	done    chan struct{}
	idleSig chan struct{}
}

// pendingSub is a subscription SUBSCRIBE TO described, waiting for LISTEN.
type pendingSub struct {
	sql  string
	opts live.SubscribeOptions
}

// rememberSubscription records the subscription a SUBSCRIBE TO result
// describes, so LISTEN can open it.
func (c *conn) rememberSubscription(out *outcome) {
	if len(out.rows) != 1 || len(out.rows[0]) < 5 {
		return
	}
	id, _ := out.rows[0][2].(string)
	sqlText, _ := out.rows[0][3].(string)
	optJSON, _ := out.rows[0][4].(string)
	var raw map[string]any
	_ = json.Unmarshal([]byte(optJSON), &raw)
	var o live.SubscribeOptions
	if v, ok := raw["batch_size"].(float64); ok {
		o.BatchSize = int(v)
	}
	if v, ok := raw["last_rows"].(float64); ok {
		o.LastRows = int(v)
	}
	if v, ok := raw["from"].(string); ok {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			o.From = &n
		}
	}
	if c.pending == nil {
		c.pending = map[string]pendingSub{}
	}
	if len(c.pending) >= maxPrepared {
		clear(c.pending)
	}
	c.pending[id] = pendingSub{sql: sqlText, opts: o}
}

// channelName reads LISTEN/UNLISTEN's operand.
func channelName(cl classified) (string, bool) {
	if len(cl.toks) < 3 {
		return "", false
	}
	t := cl.toks[1]
	switch t.Kind {
	case parse.TokIdent, parse.TokQuotedIdent, parse.TokString:
		return t.Value, true
	case parse.TokOp:
		if t.Text == "*" {
			return "*", true
		}
	}
	return "", false
}

func (c *conn) execListen(ctx context.Context, cl classified) (*outcome, error) {
	ch, ok := channelName(cl)
	if !ok || ch == "*" {
		return nil, pgErr(sqlstateSyntax, "LISTEN needs a channel: the subscription_id that SUBSCRIBE TO returned")
	}
	if c.srv.opts.Live == nil {
		return nil, pgErr(sqlstateFeatureNotSupported, "live queries are not available on this server")
	}
	if l := c.listen; l != nil {
		l.mu.Lock()
		on := l.active[ch]
		l.mu.Unlock()
		if on {
			return &outcome{tag: "LISTEN"}, nil
		}
	}
	p, ok := c.pending[ch]
	if !ok {
		return nil, pgErr("42704", fmt.Sprintf("no subscription %q on this connection: run SUBSCRIBE TO first and LISTEN on its subscription_id (docs/postgres-wire.md#live-queries)", ch))
	}
	if err := c.startListener(); err != nil {
		return nil, err
	}
	c.listen.mu.Lock()
	c.listen.active[ch] = true
	c.listen.mu.Unlock()
	c.listen.conn.Subscribe(context.WithoutCancel(ctx), ch, p.sql, p.opts)
	return &outcome{tag: "LISTEN"}, nil
}

func (c *conn) execUnlisten(cl classified) (*outcome, error) {
	ch, ok := channelName(cl)
	if !ok {
		return nil, pgErr(sqlstateSyntax, "UNLISTEN needs a channel or *")
	}
	if l := c.listen; l != nil {
		l.mu.Lock()
		var ids []string
		for id := range l.active {
			if ch == "*" || id == ch {
				ids = append(ids, id)
				delete(l.active, id)
			}
		}
		l.mu.Unlock()
		for _, id := range ids {
			l.conn.Unsubscribe(id)
		}
	}
	return &outcome{tag: "UNLISTEN"}, nil
}

// startListener opens the connection's live-query connection and its
// notification pump (once).
func (c *conn) startListener() error {
	if c.listen != nil {
		return nil
	}
	m := c.srv.opts.Live
	out := live.NewOutbox(liveQueueSize, liveQueueSize+64)
	if !m.Attach(out) {
		return pgErr("53300", "too many live-query connections on this node (websocket.max_connections)")
	}
	lc, err := m.Open(auth.Claims{Subject: c.sess.UserID, Role: c.sess.Role}, out)
	if err != nil {
		m.Detach(out)
		return pgErr("57P03", "live queries are shutting down")
	}
	l := &listener{conn: lc, out: out, active: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{}), idleSig: make(chan struct{}, 1)}
	c.listen = l
	go c.pump(l)
	return nil
}

// pump forwards live messages as NotificationResponses while the
// connection is idle, and fetches further initial-data pages.
func (c *conn) pump(l *listener) {
	defer close(l.done)
	var frames [][]byte
	var arena []byte
	for {
		select {
		case <-l.stop:
			return
		case <-l.out.Wake():
		}
		var closing bool
		frames, arena, closing, _, _ = l.out.Take(frames[:0], arena)
		for len(frames) > 0 && !c.idle.Load() {
			select {
			case <-l.stop:
				return
			case <-l.idleSig:
			}
		}
		c.writeMu.Lock()
		for _, f := range frames {
			var head struct {
				Type  string `json:"type"`
				SubID string `json:"subscription_id"`
				Batch struct {
					HasMore bool `json:"has_more"`
				} `json:"batch_control"`
			}
			_ = json.Unmarshal(f, &head)
			l.mu.Lock()
			on := l.active[head.SubID] || head.SubID == ""
			l.mu.Unlock()
			if !on {
				continue
			}
			c.be.Send(&pgproto3.NotificationResponse{PID: c.pid, Channel: head.SubID, Payload: string(f)})
			if head.Type == "initial_data_batch" && head.Batch.HasMore {
				go l.conn.NextBatch(context.Background(), head.SubID)
			}
		}
		_ = c.be.Flush()
		c.writeMu.Unlock()
		if closing {
			return
		}
	}
}

// stopListening closes the live-query connection and its pump.
func (c *conn) stopListening() {
	l := c.listen
	if l == nil {
		return
	}
	c.listen = nil
	close(l.stop)
	<-l.done
	l.conn.Close()
	c.srv.opts.Live.Detach(l.out)
}
