package pgwire

import (
	"context"
)

// listener is the connection's LISTEN state (live.go).
type listener struct{}

func (c *conn) stopListening() {}

func (c *conn) execListen(_ context.Context, _ classified) (*outcome, error) {
	return nil, pgErr(sqlstateFeatureNotSupported, "LISTEN is not supported yet: use the WebSocket API for live queries (docs/websocket.md)")
}

func (c *conn) execUnlisten(_ classified) (*outcome, error) {
	return &outcome{tag: "UNLISTEN"}, nil
}
