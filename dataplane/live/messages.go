package live

import (
	"encoding/json"
	"strconv"
)

// Error codes sent in "error" and "auth_error" messages. The first group is
// the reference's (§4); the second group names limits and guarantees that
// upstream does not report.
const (
	CodeAuthRequired        = "AUTH_REQUIRED"
	CodeInvalidSubscription = "INVALID_SUBSCRIPTION_ID"
	CodeSubscriptionLimit   = "SUBSCRIPTION_LIMIT_EXCEEDED"
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeNotFound            = "NOT_FOUND"
	CodeInvalidSQL          = "INVALID_SQL"
	CodeUnsupported         = "UNSUPPORTED"
	CodeSubscriptionFailed  = "SUBSCRIPTION_FAILED"
	CodeBatchFetchFailed    = "BATCH_FETCH_FAILED"
	CodeMessageTooLarge     = "MESSAGE_TOO_LARGE"
	CodeRateLimit           = "RATE_LIMIT_EXCEEDED"
	CodeUnsupportedData     = "UNSUPPORTED_DATA"
	CodeProtocol            = "PROTOCOL"

	// CodeOverflow: the connection's bounded queue was full (the client
	// reads too slowly); the subscription is ended. Resume with from.
	CodeOverflow = "OVERFLOW"
	// CodeResumeUnavailable: options.from is older than the history the
	// server still holds (or ahead of it); resubscribe without from.
	CodeResumeUnavailable = "RESUME_UNAVAILABLE"
	// CodeKilled: ended by KILL LIVE QUERY.
	CodeKilled = "KILLED"
	// CodeAuthTimeout, CodeIdleTimeout: connection-level timeouts.
	CodeAuthTimeout = "AUTH_TIMEOUT"
	CodeIdleTimeout = "IDLE_TIMEOUT"
	// CodeAuthRevoked: the user's tokens were revoked (password or role
	// change, user dropped); the connection is closed.
	CodeAuthRevoked = "AUTH_REVOKED"
	// CodeTokenExpired: the access token the connection authenticated
	// with expired; the connection is closed.
	CodeTokenExpired = "TOKEN_EXPIRED"
	// CodeShutdown: the server is shutting down.
	CodeShutdown = "SHUTDOWN"
	// CodeOverloaded: the node's global budget for queued WebSocket data
	// was exhausted and this connection held the most; it is closed with
	// CloseTryAgainLater (1013). Reconnect and resume with from.
	CodeOverloaded = "OVERLOADED"
)

// Synthetic subscription ids for errors that concern no subscription
// (reference §4).
const (
	SubIDProtocol  = "protocol"
	SubIDRateLimit = "rate_limit"
	SubIDSubscribe = "subscribe"
	SubIDInvalid   = "invalid_subscription"
)

// Batch statuses of batch_control.
const (
	statusLoading      = "loading"
	statusLoadingBatch = "loading_batch"
	statusReady        = "ready"
)

type errorMsg struct {
	Type           string `json:"type"`
	SubscriptionID string `json:"subscription_id"`
	Code           string `json:"code"`
	Message        string `json:"message"`
}

// ErrorMessage encodes an "error" message.
func ErrorMessage(subID, code, msg string) []byte {
	b, _ := json.Marshal(errorMsg{Type: "error", SubscriptionID: subID, Code: code, Message: msg})
	return b
}

type authErrorMsg struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// AuthErrorMessage encodes an "auth_error" message.
func AuthErrorMessage(code, msg string) []byte {
	b, _ := json.Marshal(authErrorMsg{Type: "auth_error", Code: code, Message: msg})
	return b
}

// Protocol is the negotiated serialization and compression.
type Protocol struct {
	Serialization string `json:"serialization"`
	Compression   string `json:"compression"`
}

type authSuccessMsg struct {
	Type     string   `json:"type"`
	User     string   `json:"user"`
	Role     string   `json:"role"`
	Protocol Protocol `json:"protocol"`
}

// AuthSuccessMessage encodes an "auth_success" message.
func AuthSuccessMessage(user, role string, p Protocol) []byte {
	b, _ := json.Marshal(authSuccessMsg{Type: "auth_success", User: user, Role: role, Protocol: p})
	return b
}

type batchControl struct {
	BatchNum  int    `json:"batch_num"`
	HasMore   bool   `json:"has_more"`
	Status    string `json:"status"`
	LastSeqID string `json:"last_seq_id"`
}

type ackMsg struct {
	Type           string       `json:"type"`
	SubscriptionID string       `json:"subscription_id"`
	TotalRows      int          `json:"total_rows"`
	BatchControl   batchControl `json:"batch_control"`
	Schema         any          `json:"schema"`
}

// ackMessage encodes a subscription_ack; schema is the engine's
// WireSchema of the subscription's fields. Its batch_control is the first
// batch's (more: whether further batches follow), as upstream's.
func ackMessage(subID string, pos uint64, more bool, schema any) []byte {
	status := statusReady
	if more {
		status = statusLoading
	}
	b, _ := json.Marshal(ackMsg{Type: "subscription_ack", SubscriptionID: subID,
		BatchControl: batchControl{HasMore: more, Status: status, LastSeqID: strconv.FormatUint(pos, 10)}, Schema: schema})
	return b
}

// batchMessage encodes an initial_data_batch. rows and deleted are
// pre-encoded row objects; deleted (resume replay only) lists rows removed
// from the result since options.from.
func batchMessage(idJSON []byte, rows, deleted [][]byte, resume bool, num int, more bool, pos uint64) []byte {
	status := statusReady
	if more {
		status = statusLoadingBatch
		if num == 0 {
			status = statusLoading
		}
	}
	n := 160 + len(idJSON)
	for _, r := range rows {
		n += len(r) + 1
	}
	for _, r := range deleted {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":"initial_data_batch","subscription_id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"rows":`...)
	b = appendArray(b, rows)
	if resume {
		b = append(b, `,"deleted_rows":`...)
		b = appendArray(b, deleted)
	}
	b = append(b, `,"batch_control":{"batch_num":`...)
	b = strconv.AppendInt(b, int64(num), 10)
	b = append(b, `,"has_more":`...)
	b = strconv.AppendBool(b, more)
	b = append(b, `,"status":"`...)
	b = append(b, status...)
	b = append(b, `","last_seq_id":"`...)
	b = strconv.AppendUint(b, pos, 10)
	return append(b, `"}}`...)
}

func appendArray(b []byte, items [][]byte) []byte {
	b = append(b, '[')
	for i, r := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']')
}

// changeKind is the change_type of a change message.
type changeKind uint8

const (
	changeInsert changeKind = iota + 1
	changeUpdate
	changeDelete
)

var changeTypes = [...]string{changeInsert: "insert", changeUpdate: "update", changeDelete: "delete"}

// appendChange encodes one change message carrying items (all of the same
// subscription and kind, in _seq order).
func appendChange(b []byte, idJSON []byte, kind changeKind, items []outItem) []byte {
	b = append(b, `{"type":"change","subscription_id":`...)
	b = append(b, idJSON...)
	b = append(b, `,"change_type":"`...)
	b = append(b, changeTypes[kind]...)
	b = append(b, '"')
	if kind != changeDelete {
		b = append(b, `,"rows":[`...)
		for i, it := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, it.row...)
		}
		b = append(b, ']')
	}
	if kind != changeInsert {
		b = append(b, `,"old_values":[`...)
		for i, it := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, it.old...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
