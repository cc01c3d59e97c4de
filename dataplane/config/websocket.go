package config

import (
	"net/url"
	"strings"
)

// WebSocketConfig bounds live-query WebSocket connections (GET /v1/ws).
// Every limit, when hit, is reported to the client with its own error code
// (docs/websocket.md).
type WebSocketConfig struct {
	// AuthTimeoutSeconds is how long a connection may stay unauthenticated
	// before it is closed (AUTH_TIMEOUT).
	AuthTimeoutSeconds int `toml:"auth_timeout_seconds"`
	// IdleTimeoutSeconds closes connections from which nothing (no message,
	// no ping) arrived for this long (IDLE_TIMEOUT).
	IdleTimeoutSeconds int `toml:"idle_timeout_seconds"`
	// WriteTimeoutSeconds closes a connection whose socket accepted no data
	// for this long: its client has stopped reading.
	WriteTimeoutSeconds int `toml:"write_timeout_seconds"`
	// InitialDataTimeoutSeconds ends a subscription whose initial data was
	// not fully fetched (next_batch) within this long; it pins a storage
	// snapshot until then (BATCH_FETCH_FAILED).
	InitialDataTimeoutSeconds int `toml:"initial_data_timeout_seconds"`
	// TimeFilterRecheckMS is how often subscriptions whose condition reads
	// the clock (NOW(), CURRENT_TIMESTAMP, ...) are re-evaluated, so rows
	// that enter or leave the result as time passes produce events.
	TimeFilterRecheckMS int `toml:"time_filter_recheck_ms"`
	// MaxConnections caps concurrent WebSocket connections on this node;
	// upgrades beyond it are refused with HTTP 503.
	MaxConnections int `toml:"max_connections"`
	// MaxSubscriptionsPerConnection caps subscriptions on one connection
	// (SUBSCRIPTION_LIMIT_EXCEEDED).
	MaxSubscriptionsPerConnection int `toml:"max_subscriptions_per_connection"`
	// MaxSubscriptionsPerUser caps one user's subscriptions over all of its
	// connections on this node (SUBSCRIPTION_LIMIT_EXCEEDED).
	MaxSubscriptionsPerUser int `toml:"max_subscriptions_per_user"`
	// MaxSubscriptionBytesPerUser bounds what one user's subscriptions
	// hold in the live-query index, in bytes: each costs its SQL text and
	// id plus 1 KiB (SUBSCRIPTION_LIMIT_EXCEEDED). 0 disables it.
	MaxSubscriptionBytesPerUser int `toml:"max_subscription_bytes_per_user"`
	// MaxMessageBytes is the largest client message accepted
	// (MESSAGE_TOO_LARGE, then the connection is closed).
	MaxMessageBytes int `toml:"max_message_bytes"`
	// MaxMessagesPerSecond rate-limits client messages per connection
	// (RATE_LIMIT_EXCEEDED); a burst may exceed it by
	// MaxSubscriptionsPerConnection + 1 (authenticate and subscribe fully).
	MaxMessagesPerSecond int `toml:"max_messages_per_second"`
	// QueueSize bounds the messages waiting to be written to one
	// connection. A subscription whose message does not fit is ended with
	// OVERFLOW instead of silently losing events.
	QueueSize int `toml:"queue_size"`
	// MaxQueuedBytesPerConnection bounds the bytes queued for one
	// connection, counting frames its writer took and has not written yet
	// (and the changes buffered by one loading subscription); a change
	// that does not fit ends its subscription with OVERFLOW.
	MaxQueuedBytesPerConnection int `toml:"max_queued_bytes_per_connection"`
	// MaxQueuedBytesTotal bounds those bytes over all connections of the
	// node; when exhausted, the connections holding the most are shed
	// (OVERLOADED, close code 1013). 0 disables the global bound.
	MaxQueuedBytesTotal int `toml:"max_queued_bytes_total"`
	// MaxBatchBytes bounds one initial-data page: pages after the first
	// are sized from the previous page's average row to stay near it.
	MaxBatchBytes int `toml:"max_batch_bytes"`
	// SocketSendBufferBytes fixes the kernel send buffer of each
	// connection's socket (the kernel doubles it); 0 keeps the kernel's
	// autotuning, which lets a client that stopped reading hold up to
	// net.ipv4.tcp_wmem's maximum (4 MiB) of kernel memory, charged to the
	// pod's memory but outside the queue budgets.
	SocketSendBufferBytes int `toml:"socket_send_buffer_bytes"`
	// DefaultBatchSize is the initial-data page size when the client sets
	// none; MaxBatchSize is the largest it may ask for.
	DefaultBatchSize int `toml:"default_batch_size"`
	MaxBatchSize     int `toml:"max_batch_size"`
	// AllowedOrigins lists the browser origins allowed to connect, as
	// host patterns ("app.example.com", "*.example.com") or
	// "scheme://host" patterns. Empty allows any origin: authentication is
	// by token, never by cookie, so a foreign page gains nothing.
	AllowedOrigins []string `toml:"allowed_origins"`
}

// defaultWebSocket returns the [websocket] defaults. Upstream uses 10
// subscriptions per user and a 10 s idle timeout; ours are roomier because
// a live app commonly holds one subscription per open view, and mobile
// clients ping less often.
func defaultWebSocket() WebSocketConfig {
	return WebSocketConfig{
		AuthTimeoutSeconds:            3,
		IdleTimeoutSeconds:            30,
		WriteTimeoutSeconds:           30,
		InitialDataTimeoutSeconds:     60,
		TimeFilterRecheckMS:           1000,
		MaxConnections:                25000,
		MaxSubscriptionsPerConnection: 100,
		MaxSubscriptionsPerUser:       1000,
		MaxSubscriptionBytesPerUser:   16 * mib,
		MaxMessageBytes:               1 * mib,
		MaxMessagesPerSecond:          100,
		QueueSize:                     4096,
		MaxQueuedBytesPerConnection:   8 * mib,
		MaxQueuedBytesTotal:           256 * mib,
		MaxBatchBytes:                 1 * mib,
		SocketSendBufferBytes:         256 * kib,
		DefaultBatchSize:              1000,
		MaxBatchSize:                  5000,
		AllowedOrigins:                []string{},
	}
}

func (w WebSocketConfig) validate(p *problems) {
	positive(p, "websocket.auth_timeout_seconds", w.AuthTimeoutSeconds)
	positive(p, "websocket.idle_timeout_seconds", w.IdleTimeoutSeconds)
	positive(p, "websocket.write_timeout_seconds", w.WriteTimeoutSeconds)
	positive(p, "websocket.initial_data_timeout_seconds", w.InitialDataTimeoutSeconds)
	inRange(p, "websocket.time_filter_recheck_ms", w.TimeFilterRecheckMS, 10, 3600_000)
	positive(p, "websocket.max_connections", w.MaxConnections)
	positive(p, "websocket.max_subscriptions_per_connection", w.MaxSubscriptionsPerConnection)
	positive(p, "websocket.max_subscriptions_per_user", w.MaxSubscriptionsPerUser)
	inRange(p, "websocket.max_subscription_bytes_per_user", w.MaxSubscriptionBytesPerUser, 0, 1<<30)
	inRange(p, "websocket.max_message_bytes", w.MaxMessageBytes, 1024, 64*mib)
	positive(p, "websocket.max_messages_per_second", w.MaxMessagesPerSecond)
	inRange(p, "websocket.queue_size", w.QueueSize, 16, 1<<20)
	inRange(p, "websocket.max_queued_bytes_per_connection", w.MaxQueuedBytesPerConnection, 64*kib, 1<<30)
	if w.MaxQueuedBytesTotal != 0 && w.MaxQueuedBytesTotal < w.MaxQueuedBytesPerConnection {
		p.add("websocket.max_queued_bytes_total", "%d is less than websocket.max_queued_bytes_per_connection %d (0 disables the global bound)", w.MaxQueuedBytesTotal, w.MaxQueuedBytesPerConnection)
	}
	inRange(p, "websocket.max_batch_bytes", w.MaxBatchBytes, 1*kib, 64*mib)
	if w.SocketSendBufferBytes != 0 {
		inRange(p, "websocket.socket_send_buffer_bytes", w.SocketSendBufferBytes, 4*kib, 64*mib)
	}
	positive(p, "websocket.default_batch_size", w.DefaultBatchSize)
	positive(p, "websocket.max_batch_size", w.MaxBatchSize)
	if w.DefaultBatchSize > w.MaxBatchSize {
		p.add("websocket.default_batch_size", "%d is greater than websocket.max_batch_size %d", w.DefaultBatchSize, w.MaxBatchSize)
	}
	for _, o := range w.AllowedOrigins {
		host := o
		if i := strings.Index(o, "://"); i >= 0 {
			u, err := url.Parse(o)
			if err != nil || u.Host == "" {
				p.add("websocket.allowed_origins", "%q is not a host pattern or scheme://host pattern", o)
				continue
			}
			host = u.Host
		}
		if strings.TrimSpace(host) == "" || strings.ContainsAny(host, "/ ") {
			p.add("websocket.allowed_origins", "%q is not a host pattern or scheme://host pattern", o)
		}
	}
}
