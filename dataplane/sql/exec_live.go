package sql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// LiveInfo describes one live subscription for system.live.
type LiveInfo struct {
	LiveID         string
	ConnectionID   string
	SubscriptionID string
	Namespace      string
	Table          string
	UserID         string
	Query          string
	Options        string // JSON
	Status         string // loading | active
	CreatedAtMs    int64
	LastUpdateMs   int64 // last change delivered, 0 if none
	Changes        int64
	NodeID         int64
	LastPingAtMs   int64
}

// LiveRegistry is what the SQL layer needs from the live-query manager
// (package live implements it; the node wires it with SetLive). The SQL
// layer cannot import package live, which depends on it.
type LiveRegistry interface {
	// LiveSubscriptions lists the active subscriptions.
	LiveSubscriptions() []LiveInfo
	// KillLive ends the subscription with the given live id. A non-admin
	// may only end its own; others' are reported as not found.
	KillLive(liveID, byUser string, admin bool) bool
}

type liveBox struct{ r LiveRegistry }

// SetLive installs the live-query registry used by system.live and KILL
// LIVE QUERY.
func (e *Engine) SetLive(r LiveRegistry) { e.liveReg.Store(&liveBox{r: r}) }

func (e *Engine) liveRegistry() LiveRegistry {
	if b := e.liveReg.Load(); b != nil {
		return b.r
	}
	return nil
}

type originKey struct{}

// WithOrigin records the externally visible origin of the request being
// served ("http://host:port" or the configured public origin), so that
// SUBSCRIBE TO can answer with a WebSocket URL the client can reach.
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// WSURL turns an http(s) origin into the WebSocket endpoint URL.
func WSURL(origin string) string {
	switch {
	case strings.HasPrefix(origin, "https://"):
		origin = "wss://" + strings.TrimPrefix(origin, "https://")
	case strings.HasPrefix(origin, "http://"):
		origin = "ws://" + strings.TrimPrefix(origin, "http://")
	}
	return strings.TrimRight(origin, "/") + "/v1/ws"
}

// subscribeOptions are the OPTIONS accepted by SUBSCRIBE TO.
var subscribeOptions = map[string]string{
	"last_rows": "last_rows", "batch_size": "batch_size", "from": "from", "from_seq_id": "from",
}

// execSubscribe answers SUBSCRIBE TO over HTTP: it validates the query
// exactly as a WebSocket subscribe would and describes the subscription
// to open on the WebSocket (reference §2.8; the URL comes from the request
// instead of being hard-coded).
func (e *Engine) execSubscribe(ctx context.Context, sess *Session, s *parse.Subscribe) (*Result, error) {
	var q strings.Builder
	q.WriteString("SELECT * FROM ")
	ns := s.Table.Namespace
	if ns == "" {
		ns = sess.Namespace
	}
	q.WriteString(quoteIdent(ns) + "." + quoteIdent(s.Table.Name))
	if s.Where != "" {
		q.WriteString(" WHERE " + s.Where)
	}
	// Statements catch up on NOT_FOUND already (execCaughtUp).
	if _, err := e.planLive(*sess, q.String()); err != nil {
		return nil, err
	}
	opts := map[string]any{}
	for k, v := range s.Options {
		name, ok := subscribeOptions[k]
		if !ok {
			return nil, badRequest(CodeInvalidSQL, "unknown subscription option %s (use last_rows, batch_size, from)", k)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, badRequest(CodeInvalidInput, "subscription option %s must be a non-negative integer, got %q", k, v)
		}
		if name == "from" {
			// 64-bit values travel as strings (JavaScript-safe).
			opts[name] = strconv.FormatUint(n, 10)
		} else {
			opts[name] = n
		}
	}
	origin, _ := ctx.Value(originKey{}).(string)
	if origin == "" {
		origin = "http://localhost"
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	optJSON, _ := json.Marshal(opts)
	res := &Result{
		Schema:  subscribeSchema(),
		Rows:    [][]any{{"active", WSURL(origin), "sub-" + hex.EncodeToString(rnd[:]), q.String(), string(optJSON)}},
		Message: "Open the WebSocket at ws_url and send a subscribe message with this sql and options",
	}
	res.RowCount = 1
	return res, nil
}

// execKillLive ends a live subscription by id.
func (e *Engine) execKillLive(_ context.Context, sess *Session, s *parse.KillLiveQuery) (*Result, error) {
	r := e.liveRegistry()
	if r == nil || !r.KillLive(s.LiveID, sess.UserID, sess.Role.IsAdmin()) {
		return nil, notFound("live query '%s' not found", s.LiveID)
	}
	return &Result{Message: "Live query " + s.LiveID + " killed"}, nil
}

// liveView is system.live: the subscriptions open on this node.
var liveView = &systemView{
	columns: []viewColumn{col("live_id", datatype.Text), col("connection_id", datatype.Text), col("subscription_id", datatype.Text),
		col("namespace_id", datatype.Text), col("table_name", datatype.Text), col("user_id", datatype.Text), col("query", datatype.Text),
		col("options", datatype.JSON), col("status", datatype.Text), col("created_at", datatype.Timestamp), col("last_update", datatype.Timestamp),
		col("changes", datatype.BigInt), col("node_id", datatype.BigInt), col("last_ping_at", datatype.Timestamp)},
	rows: func(cs *connState) ([][]any, error) {
		r := cs.eng.liveRegistry()
		if r == nil {
			return nil, nil
		}
		subs := r.LiveSubscriptions()
		sort.Slice(subs, func(i, j int) bool { return subs[i].LiveID < subs[j].LiveID })
		out := make([][]any, 0, len(subs))
		ts := func(ms int64) any {
			if ms == 0 {
				return nil
			}
			return ms * 1000
		}
		for _, s := range subs {
			out = append(out, []any{s.LiveID, s.ConnectionID, s.SubscriptionID, s.Namespace, s.Table, s.UserID, s.Query,
				s.Options, s.Status, ts(s.CreatedAtMs), ts(s.LastUpdateMs), s.Changes, s.NodeID, ts(s.LastPingAtMs)})
		}
		return out, nil
	},
}

// subscribeSchema is the columns of SUBSCRIBE TO's answer.
func subscribeSchema() []Field {
	text := datatype.Type{Kind: datatype.Text}.String()
	return []Field{{Name: "status", DataType: text, Index: 0}, {Name: "ws_url", DataType: text, Index: 1},
		{Name: "subscription_id", DataType: text, Index: 2}, {Name: "sql", DataType: text, Index: 3},
		{Name: "options", DataType: datatype.Type{Kind: datatype.JSON}.String(), Index: 4}}
}
