package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
)

// liveMsg is the part of a server message (docs/websocket.md) the CLI reads.
type liveMsg struct {
	Type         string           `json:"type"`
	Code         string           `json:"code"`
	Message      string           `json:"message"`
	ChangeType   string           `json:"change_type"`
	Schema       []client.Field   `json:"schema"`
	Rows         []map[string]any `json:"rows"`
	OldValues    []map[string]any `json:"old_values"`
	BatchControl struct {
		HasMore bool `json:"has_more"`
	} `json:"batch_control"`
}

// wsURL turns the HTTP base URL into the live-query endpoint.
func wsURL(base string) string {
	u := strings.TrimRight(base, "/")
	switch {
	case strings.HasPrefix(u, "https://"):
		u = "wss://" + strings.TrimPrefix(u, "https://")
	case strings.HasPrefix(u, "http://"):
		u = "ws://" + strings.TrimPrefix(u, "http://")
	}
	return u + "/v1/ws?compress=false"
}

// subscriber prints a subscription's initial rows and then its changes.
type subscriber struct {
	out    io.Writer
	format string
	cols   []string // schema order, without _seq
	csv    *csv.Writer
	header bool
}

// subscribe runs a live query until ctx ends (Ctrl-C), the server ends
// it, or maxChanges change events were printed (0 = unbounded).
func (s *shell) subscribe(ctx context.Context, sql string, maxChanges int) int {
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+s.c.Token)
	conn, _, err := websocket.Dial(ctx, wsURL(s.c.BaseURL), &websocket.DialOptions{HTTPHeader: hdr,
		// The SQL client's transport: its TLS settings (--cacert) apply.
		HTTPClient: &http.Client{Transport: s.c.HTTP.Transport}})
	if err != nil {
		fmt.Fprintf(s.errw, "kalamdb sql: cannot open the live-query connection: %v\n", err)
		return exitConnect
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return conn.Write(ctx, websocket.MessageText, b)
	}
	opts := map[string]any{}
	if s.c.Namespace != "" {
		// Subscriptions resolve unqualified names in "default"; say so
		// rather than silently subscribing to another table.
		fmt.Fprintf(s.errw, "note: --namespace does not apply to subscriptions; qualify the table name\n")
	}
	if err := send(map[string]any{"type": "subscribe", "subscription": map[string]any{"id": "cli", "sql": sql, "options": opts}}); err != nil {
		fmt.Fprintf(s.errw, "kalamdb sql: %v\n", err)
		return exitConnect
	}
	p := &subscriber{out: s.out, format: s.formatName}
	changes := 0
	var initial []map[string]any
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				conn.Close(websocket.StatusNormalClosure, "client done")
				return exitOK
			}
			if st := websocket.CloseStatus(err); st != -1 {
				fmt.Fprintf(s.errw, "kalamdb sql: the server closed the connection (%d)\n", st)
			} else {
				fmt.Fprintf(s.errw, "kalamdb sql: %v\n", err)
			}
			return exitConnect
		}
		var m liveMsg
		if err := json.Unmarshal(data, &m); err != nil {
			fmt.Fprintf(s.errw, "kalamdb sql: bad message from the server: %v\n", err)
			return exitConnect
		}
		switch m.Type {
		case "auth_success":
		case "auth_error":
			fmt.Fprintf(s.errw, "ERROR %s: %s\n", m.Code, m.Message)
			return exitConnect
		case "error":
			fmt.Fprintf(s.errw, "ERROR %s: %s\n", m.Code, m.Message)
			return exitSQL
		case "subscription_ack":
			for _, f := range m.Schema {
				if f.Name != "_seq" {
					p.cols = append(p.cols, f.Name)
				}
			}
		case "initial_data_batch":
			initial = append(initial, m.Rows...)
			if m.BatchControl.HasMore {
				if err := send(map[string]string{"type": "next_batch", "subscription_id": "cli"}); err != nil {
					return exitConnect
				}
				continue
			}
			p.printInitial(initial)
			initial = nil
		case "change":
			p.printChange(m)
			changes++
			if maxChanges > 0 && changes >= maxChanges {
				conn.Close(websocket.StatusNormalClosure, "client done")
				return exitOK
			}
		}
	}
}

func (p *subscriber) values(r map[string]any) []string {
	vals := make([]string, len(p.cols))
	for i, c := range p.cols {
		if v, ok := r[c]; ok && v != nil {
			vals[i] = cell(v)
		} else if p.format != "csv" {
			vals[i] = "NULL"
		}
	}
	return vals
}

func (p *subscriber) printInitial(rows []map[string]any) {
	switch p.format {
	case "json":
		for _, r := range rows {
			p.json(map[string]any{"change": "initial", "row": r})
		}
		p.json(map[string]any{"change": "ready", "rows": len(rows)})
	case "csv":
		for _, r := range rows {
			p.csvRow("initial", r)
		}
	default:
		res := client.Result{RowCount: len(rows)}
		for i, c := range p.cols {
			res.Schema = append(res.Schema, client.Field{Name: c, Index: i})
		}
		for _, r := range rows {
			row := make([]any, len(p.cols))
			for i, c := range p.cols {
				row[i] = r[c]
			}
			res.Rows = append(res.Rows, row)
		}
		printTable(p.out, res)
		fmt.Fprintln(p.out, "-- live: waiting for changes (Ctrl-C to stop)")
	}
}

func (p *subscriber) printChange(m liveMsg) {
	rows := m.Rows
	if m.ChangeType == "delete" {
		rows = m.OldValues
	}
	for i, r := range rows {
		switch p.format {
		case "json":
			ev := map[string]any{"change": m.ChangeType, "row": r}
			if m.ChangeType == "update" && i < len(m.OldValues) {
				ev["old"] = m.OldValues[i]
			}
			p.json(ev)
		case "csv":
			p.csvRow(m.ChangeType, r)
		default:
			var parts []string
			for j, c := range p.cols {
				if _, ok := r[c]; ok {
					parts = append(parts, c+"="+p.values(r)[j])
				}
			}
			fmt.Fprintf(p.out, "%-7s %s\n", strings.ToUpper(m.ChangeType), strings.Join(parts, ", "))
		}
	}
}

func (p *subscriber) json(v any) {
	enc := json.NewEncoder(p.out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (p *subscriber) csvRow(change string, r map[string]any) {
	if p.csv == nil {
		p.csv = csv.NewWriter(p.out)
	}
	if !p.header {
		_ = p.csv.Write(append([]string{"change"}, p.cols...))
		p.header = true
	}
	_ = p.csv.Write(append([]string{change}, p.values(r)...))
	p.csv.Flush()
}
