// Command liveclient is the small live-query client of docs/websocket.md:
// it logs in, subscribes to a query, keeps the result in a map by primary
// key, prints it on every change, and resumes with "from" after a
// disconnect.
//
//	go run ./docs/examples/liveclient -url http://127.0.0.1:8080 -user alice -password secret \
//	    -sql "SELECT * FROM chat.messages WHERE room = 'general'"
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/coder/websocket"
)

type row map[string]any

// message is any server message (docs/websocket.md, "Server messages").
type message struct {
	Type           string `json:"type"`
	SubscriptionID string `json:"subscription_id"`
	ChangeType     string `json:"change_type"`
	Rows           []row  `json:"rows"`
	OldValues      []row  `json:"old_values"`
	DeletedRows    []row  `json:"deleted_rows"`
	Code           string `json:"code"`
	Message        string `json:"message"`
	BatchControl   struct {
		HasMore   bool   `json:"has_more"`
		LastSeqID string `json:"last_seq_id"`
	} `json:"batch_control"`
}

// state is the client's copy of the result and its resume point.
type state struct {
	pk      string
	rows    map[string]row
	lastSeq string // the largest _seq applied; "" before the first batch
}

func (s *state) key(r row) string { return fmt.Sprint(r[s.pk]) }

// observe advances the resume point (64-bit values travel as strings;
// they are equal-length-compared as numbers).
func (s *state) observe(seq string) {
	if len(seq) > len(s.lastSeq) || (len(seq) == len(s.lastSeq) && seq > s.lastSeq) {
		s.lastSeq = seq
	}
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server URL")
	user := flag.String("user", "root", "user")
	password := flag.String("password", "", "password")
	sql := flag.String("sql", "", "subscription query: SELECT ... FROM ns.table [WHERE ...]")
	pk := flag.String("pk", "id", "primary-key column")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	token, err := login(ctx, *url, *user, *password)
	if err != nil {
		log.Fatal(err)
	}
	st := &state{pk: *pk, rows: map[string]row{}}
	for ctx.Err() == nil {
		err := run(ctx, *url, token, *sql, st)
		log.Printf("disconnected: %v; resuming from _seq %s", err, st.lastSeq)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func login(ctx context.Context, url, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"user": user, "password": password})
	req, err := http.NewRequestWithContext(ctx, "POST", url+"/v1/api/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("login failed (HTTP %d)", resp.StatusCode)
	}
	return out.AccessToken, nil
}

// run holds one connection: authenticate, subscribe (resuming when we
// already hold rows), then apply messages until the connection ends.
func run(ctx context.Context, url, token, sql string, st *state) error {
	wsURL := "ws" + strings.TrimPrefix(url, "http") + "/v1/ws"
	c, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 20)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "authenticate", "method": "jwt", "token": token,
		"protocol": map[string]string{"serialization": "json", "compression": "none"}}); err != nil {
		return err
	}
	opts := map[string]any{"batch_size": 500}
	if st.lastSeq != "" {
		opts["from"] = st.lastSeq // replay only what changed since
	} else {
		st.rows = map[string]row{} // a snapshot cut short is started over
	}
	if err := send(map[string]any{"type": "subscribe",
		"subscription": map[string]any{"id": "main", "sql": sql, "options": opts}}); err != nil {
		return err
	}
	// The server closes connections that stay silent for its idle timeout.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
				if send(map[string]string{"type": "ping"}) != nil {
					return
				}
			}
		}
	}()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return err
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		switch m.Type {
		case "auth_error":
			return fmt.Errorf("%s: %s", m.Code, m.Message)
		case "error":
			if m.Code == "RESUME_UNAVAILABLE" {
				// Too far behind: start over with a full snapshot.
				st.rows, st.lastSeq = map[string]row{}, ""
			}
			return fmt.Errorf("%s: %s", m.Code, m.Message)
		case "initial_data_batch":
			for _, r := range m.Rows {
				st.rows[st.key(r)] = r
			}
			for _, r := range m.DeletedRows { // resume only
				delete(st.rows, st.key(r))
			}
			if m.BatchControl.HasMore {
				if err := send(map[string]string{"type": "next_batch", "subscription_id": "main"}); err != nil {
					return err
				}
				continue
			}
			// Only a complete snapshot (or replay) is a resume point.
			st.observe(m.BatchControl.LastSeqID)
			fmt.Printf("ready: %d rows\n", len(st.rows))
		case "change":
			for _, r := range m.Rows { // insert and update: the full new row
				st.rows[st.key(r)] = r
				st.observe(fmt.Sprint(r["_seq"]))
			}
			if m.ChangeType == "delete" {
				for _, r := range m.OldValues {
					delete(st.rows, st.key(r))
					st.observe(fmt.Sprint(r["_seq"]))
				}
			}
			fmt.Printf("%s: %d rows now\n", m.ChangeType, len(st.rows))
		}
	}
}
