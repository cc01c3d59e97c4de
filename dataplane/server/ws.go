package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/live"
)

// WSOptions configure the live-query WebSocket endpoint (GET /v1/ws).
type WSOptions struct {
	AuthTimeout          time.Duration
	IdleTimeout          time.Duration
	WriteTimeout         time.Duration
	MaxMessageBytes      int
	MaxMessagesPerSecond int
	QueueSize            int
	MaxSubsPerConn       int
	// SocketSendBuffer fixes each connection's kernel send buffer (bytes;
	// 0 keeps the kernel's autotuning): see setSendBuffer.
	SocketSendBuffer int
	// AllowedOrigins are browser origin patterns; empty allows any.
	AllowedOrigins []string
	// PublicOrigin, when set, is the origin SUBSCRIBE TO advertises.
	PublicOrigin string
}

type wsState struct {
	m     *live.Manager
	opts  WSOptions
	flush flushSet // connections waiting for a flusher (ws_flush.go)
}

// SetLive enables GET /v1/ws with the given live-query manager. Call it
// before serving.
func (s *Server) SetLive(m *live.Manager, opts WSOptions) {
	s.ws = &wsState{m: m, opts: opts, flush: flushSet{max: maxFlushers()}}
	m.SetInlineWriter(live.InlineWriter{Begin: s.ws.flush.beginInline, End: s.ws.flush.endInline})
	// Open connections are re-verified as HTTP requests are (lockout,
	// revocation, role), not only when they authenticate.
	m.SetAuthCheck(func(c auth.Claims) bool { return s.checkActive(c) == nil })
}

// requestOrigin is the origin clients reach this server at: the
// configured public origin, else the request's own scheme and Host.
func (s *Server) requestOrigin(r *http.Request) string {
	if s.ws != nil && s.ws.opts.PublicOrigin != "" {
		return s.ws.opts.PublicOrigin
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// clientMsg is any client -> server message (reference §4).
type clientMsg struct {
	Type     string `json:"type"`
	Method   string `json:"method"`
	Token    string `json:"token"`
	Protocol *struct {
		Serialization string `json:"serialization"`
		Compression   string `json:"compression"`
	} `json:"protocol"`
	Subscription *struct {
		ID      string          `json:"id"`
		SQL     string          `json:"sql"`
		Options json.RawMessage `json:"options"`
	} `json:"subscription"`
	SubscriptionID string `json:"subscription_id"`
}

type subscribeOptions struct {
	BatchSize *int64          `json:"batch_size"`
	LastRows  *int64          `json:"last_rows"`
	From      json.RawMessage `json:"from"`
	FromSeqID json.RawMessage `json:"from_seq_id"`
}

// wsConn is one WebSocket connection. Its connection goroutine (run)
// reads; a writer goroutine runs only while the outbox has something to
// write (an idle connection then costs no second goroutine stack, which
// matters at 10,000s of connections). run owns the writer: it stops it
// and waits for it before it returns.
type wsConn struct {
	srv      *Server
	st       *wsState
	c        *websocket.Conn
	out      *live.Outbox
	conn     atomic.Pointer[live.Conn] // nil until authenticated
	gzip     atomic.Bool
	lastSeen atomic.Int64 // unix ns of the last client frame or ping
	// writeStart is when the current socket write began (0: none).
	writeStart atomic.Int64
	// sock tells whether a write would complete at once (ws_flush.go).
	sock   sockRoom
	authed atomic.Bool
	// ip is the client address (per-IP message limit); userID is set once
	// authenticated (per-user message limit).
	ip     string
	userID atomic.Pointer[string]
	// tokens is the message rate limiter (token bucket).
	tokens   float64
	tokensAt time.Time

	// msgpack: MessagePack was negotiated (set by login before it queues
	// auth_success). Client binary frames are accepted from then on; the
	// writer switches once it has written auth_success (mpActive).
	msgpack atomic.Bool
	// mpActive: the writer has written auth_success to a msgpack client,
	// so every later frame is transcoded. Only the holder of the
	// connection's writer slot touches it (like sock).
	mpActive bool
	// rbuf is the reader's scratch for transcoding a binary frame to JSON
	// (handle runs one message at a time).
	rbuf []byte

	wmu     sync.Mutex
	writing bool // a writer goroutine runs
	pending bool // pushed while the writer was running
	stopped bool // no writer may start any more
	closed  bool // the writer closed the connection
	wg      sync.WaitGroup
}

// handleWS upgrades GET /v1/ws and hands the connection to its own
// goroutine (see run); refusals are plain HTTP errors (503 when shutting
// down or at max_connections, 403 for a foreign origin).
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	st := s.ws
	if st == nil {
		writeError(w, time.Now(), http.StatusNotFound, "NOT_FOUND", "live queries are not enabled on this server")
		return
	}
	o := st.opts
	out := live.NewOutbox(o.QueueSize, o.QueueSize+o.MaxSubsPerConn*2+64)
	wc := &wsConn{srv: s, st: st, out: out, ip: s.clientIP(r)}
	out.SetAbort(wc.abortSoon)
	if !st.m.Attach(out) {
		writeError(w, time.Now(), http.StatusServiceUnavailable, "UNAVAILABLE", "the server is shutting down or has too many WebSocket connections")
		return
	}
	wc.lastSeen.Store(time.Now().UnixNano())
	rec := &hijackRecorder{ResponseWriter: w}
	c, err := websocket.Accept(rec, r, &websocket.AcceptOptions{
		InsecureSkipVerify: len(o.AllowedOrigins) == 0,
		OriginPatterns:     o.AllowedOrigins,
		OnPingReceived: func(context.Context, []byte) bool {
			wc.lastSeen.Store(time.Now().UnixNano())
			if conn := wc.conn.Load(); conn != nil {
				conn.Touch()
			}
			return true
		},
	})
	if err != nil {
		st.m.Detach(out)
		return // Accept has answered the request
	}
	wc.c = c
	setSendBuffer(rec.conn, o.SocketSendBuffer)
	wc.sock = newSockRoom(rec.conn)
	if probe := sendQueueProbe(rec.conn); probe != nil {
		out.SetSendQueue(probe)
	}
	// Our own limit (MESSAGE_TOO_LARGE with an error message) replaces the
	// library's, which would close without telling the client why.
	c.SetReadLimit(-1)
	up := upgradeInfo{query: r.URL.Query(), authorization: r.Header.Get("Authorization")}
	// The connection outlives this handler: a hijacked connection belongs
	// to us, and returning lets net/http drop its per-request state and
	// its (deep) goroutine stack, which idle connections would otherwise
	// keep. The goroutine is owned by the live manager's slot (Attach /
	// Detach): Manager.Shutdown closes the connection and waits for it.
	go func() {
		defer st.m.Detach(out)
		wc.run(up)
	}()
}

// upgradeInfo is what the connection needs from its upgrade request.
type upgradeInfo struct {
	query         url.Values
	authorization string
}

// run serves one connection until it ends, then stops its writer and
// releases its subscriptions.
func (wc *wsConn) run(up upgradeInfo) {
	o := wc.st.opts
	ctx, cancel := context.WithCancel(context.Background())
	wc.out.SetNotify(wc.kick)
	stopTimers := wc.startTimers()
	wc.serve(ctx, up)
	stopTimers()
	if wc.out.Closing() {
		// Let the writer flush the final error and finish the closing
		// handshake (the library bounds it), then stop it regardless.
		wc.kick()
		done := make(chan struct{})
		go func() { wc.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(o.WriteTimeout + 10*time.Second):
		}
	}
	wc.wmu.Lock()
	wc.stopped = true
	wc.wmu.Unlock()
	cancel()
	// Closing the socket unblocks a writer stuck on a client that does not
	// read; then no goroutine of this connection is left.
	wc.c.CloseNow()
	wc.wg.Wait()
	if conn := wc.conn.Load(); conn != nil {
		conn.Close()
	}
}

// shedGrace is how long a shed connection's writer gets to deliver the
// OVERLOADED error and close frame before the socket is closed under it
// (a client that stopped reading would otherwise hold its writer, and the
// frames it took, until write_timeout).
const shedGrace = 2 * time.Second

// abortSoon is the outbox's abort callback (live.Outbox.Abort): the node
// shed this connection to stay within its global queue budget.
func (wc *wsConn) abortSoon() {
	time.AfterFunc(shedGrace, func() {
		if c := wc.c; c != nil {
			c.CloseNow()
		}
	})
}

// kick queues the connection for a flusher unless a flusher or writer
// already holds it (then that one will look again).
func (wc *wsConn) kick() {
	wc.wmu.Lock()
	if wc.writing || wc.stopped || wc.closed {
		wc.pending = true
		wc.wmu.Unlock()
		return
	}
	wc.writing = true
	wc.wg.Add(1)
	wc.wmu.Unlock()
	wc.st.flush.add(wc)
}

// serve authenticates the connection and runs its read loop until the
// client goes away or the connection is being closed.
func (wc *wsConn) serve(ctx context.Context, up upgradeInfo) {
	q := up.query
	noGzip := q.Get("compress") == "false" || q.Get("compression") == "none"
	if h := up.authorization; h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			wc.fatalAuth(live.CodeAuthRequired, "only Authorization: Bearer <jwt> is accepted")
			return
		}
		ser, ok := serialization(q.Get("serialization"))
		if !ok {
			wc.fatalAuth(live.CodeUnsupported, "serialization "+q.Get("serialization")+" is not supported; use json or msgpack")
			return
		}
		var authed bool
		onShortStack(func() {
			authed = wc.login(strings.TrimSpace(token), live.Protocol{Serialization: ser, Compression: map[bool]string{true: "none", false: "gzip"}[noGzip]})
		})
		if !authed {
			return
		}
	}
	for {
		data, binary, ok := wc.readMessage(ctx)
		if !ok {
			return
		}
		onShortStack(func() { ok = wc.handle(ctx, data, binary, noGzip) })
		if !ok {
			return
		}
		if wc.out.Closing() {
			return
		}
	}
}

// serialization maps a requested serialization (query parameter or the
// authenticate message's protocol) to the one used: "" means json; ok is
// false for any other name.
func serialization(name string) (string, bool) {
	switch name {
	case "", "json":
		return "json", true
	case "msgpack":
		return "msgpack", true
	}
	return "", false
}

// readMessage reads one client message within max_message_bytes: a text
// frame, or a binary (MessagePack) frame once msgpack was negotiated.
// binary tells which; handle transcodes binary ones.
func (wc *wsConn) readMessage(ctx context.Context) (data []byte, binary, ok bool) {
	typ, rd, err := wc.c.Reader(ctx)
	if err != nil {
		return nil, false, false
	}
	max := wc.st.opts.MaxMessageBytes
	data, err = io.ReadAll(io.LimitReader(rd, int64(max)+1))
	if err != nil {
		return nil, false, false
	}
	wc.lastSeen.Store(time.Now().UnixNano())
	if conn := wc.conn.Load(); conn != nil {
		conn.Touch()
	}
	if len(data) > max {
		wc.fatal(live.CodeMessageTooLarge, fmt.Sprintf("message exceeds %d bytes", max), live.CloseMessageTooBig)
		return nil, false, false
	}
	if typ != websocket.MessageText {
		if !wc.msgpack.Load() {
			wc.fatal(live.CodeUnsupportedData, "binary frames are not accepted: send JSON in text frames (or negotiate msgpack)", live.CloseUnsupportedData)
			return nil, false, false
		}
		return data, true, true
	}
	return data, false, true
}

// handle processes one client message (binary: MessagePack, transcoded to
// JSON first); false ends the read loop.
func (wc *wsConn) handle(ctx context.Context, data []byte, binary, noGzip bool) bool {
	if !wc.allow() {
		wc.out.PushControl(live.ErrorMessage(live.SubIDRateLimit, live.CodeRateLimit,
			fmt.Sprintf("more than %d messages per second; message ignored", wc.st.opts.MaxMessagesPerSecond)))
		return true
	}
	if scope, ok := wc.allowShared(); !ok {
		wc.out.PushControl(live.ErrorMessage(live.SubIDRateLimit, live.CodeRateLimit,
			"more WebSocket messages per second than allowed per "+scope+"; message ignored"))
		return true
	}
	if binary {
		var ok bool
		if data, ok = wc.msgpackToJSON(data); !ok {
			return false
		}
	}
	var msg clientMsg
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&msg); err != nil {
		wc.fatal(live.CodeProtocol, "malformed message: "+err.Error(), live.CloseProtocolError)
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		wc.fatal(live.CodeProtocol, "malformed message: trailing data after the JSON object", live.CloseProtocolError)
		return false
	}
	conn := wc.conn.Load()
	if conn == nil {
		if msg.Type != "authenticate" {
			wc.fatalAuth(live.CodeAuthRequired, "authenticate first (type \"authenticate\", method \"jwt\")")
			return false
		}
		if msg.Method != "" && msg.Method != "jwt" {
			wc.fatalAuth(live.CodeUnsupported, "authentication method "+msg.Method+" is not supported; use jwt")
			return false
		}
		p := live.Protocol{Serialization: "json", Compression: "none"}
		if msg.Protocol != nil {
			ser, ok := serialization(msg.Protocol.Serialization)
			if !ok {
				wc.fatalAuth(live.CodeUnsupported, "serialization "+msg.Protocol.Serialization+" is not supported; use json or msgpack")
				return false
			}
			p.Serialization = ser
			switch msg.Protocol.Compression {
			case "", "none":
			case "gzip":
				if !noGzip {
					p.Compression = "gzip"
				}
			default:
				wc.fatalAuth(live.CodeUnsupported, "compression "+msg.Protocol.Compression+" is not supported; use none or gzip")
				return false
			}
		}
		return wc.login(msg.Token, p)
	}
	switch msg.Type {
	case "ping":
	case "authenticate":
		wc.out.PushControl(live.ErrorMessage(live.SubIDProtocol, live.CodeProtocol, "already authenticated"))
	case "subscribe":
		if msg.Subscription == nil {
			wc.fatal(live.CodeProtocol, "subscribe needs a \"subscription\" object", live.CloseProtocolError)
			return false
		}
		sub := msg.Subscription
		opts, err := parseSubscribeOptions(sub.Options)
		if err != nil {
			id := sub.ID
			if id == "" {
				id = live.SubIDSubscribe
			}
			wc.out.PushControl(live.ErrorMessage(id, live.CodeInvalidSQL, err.Error()))
			return true
		}
		conn.Subscribe(ctx, sub.ID, sub.SQL, opts)
	case "next_batch":
		conn.NextBatch(ctx, msg.SubscriptionID)
	case "unsubscribe":
		conn.Unsubscribe(msg.SubscriptionID)
	default:
		wc.fatal(live.CodeProtocol, fmt.Sprintf("unknown message type %q", msg.Type), live.CloseProtocolError)
		return false
	}
	return true
}

// onShortStack runs fn on a short-lived goroutine and waits for it. The
// reader goroutine of a connection lives as long as the connection and
// mostly sits in Read; message handling (JSON, token checks, SQLite for
// subscribe, whose transpiled C needs deep stacks) runs here instead, so
// the long-lived stack stays small. Go only shrinks stacks at GC, and
// 10,000s of idle connections would otherwise each keep a grown stack.
func onShortStack(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// parseSubscribeOptions reads batch_size, last_rows and from (alias
// from_seq_id; a number or a decimal string, since _seq is 64-bit).
func parseSubscribeOptions(raw json.RawMessage) (live.SubscribeOptions, error) {
	var o live.SubscribeOptions
	if len(raw) == 0 || string(raw) == "null" {
		return o, nil
	}
	var so subscribeOptions
	if err := json.Unmarshal(raw, &so); err != nil {
		return o, fmt.Errorf("invalid options: %v", err)
	}
	if so.BatchSize != nil {
		if *so.BatchSize <= 0 || *so.BatchSize > 1<<30 {
			return o, fmt.Errorf("batch_size must be positive")
		}
		o.BatchSize = int(*so.BatchSize)
	}
	if so.LastRows != nil {
		if *so.LastRows < 0 || *so.LastRows > 1<<30 {
			return o, fmt.Errorf("last_rows must not be negative")
		}
		o.LastRows = int(*so.LastRows)
	}
	from := so.From
	if len(from) == 0 || string(from) == "null" {
		from = so.FromSeqID
	}
	if len(from) > 0 && string(from) != "null" {
		text := strings.Trim(string(from), `"`)
		v, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return o, fmt.Errorf("from must be a _seq value (a non-negative integer or decimal string), got %s", from)
		}
		o.From = &v
	}
	return o, nil
}

// login verifies an access token and opens the live connection.
func (wc *wsConn) login(token string, p live.Protocol) bool {
	claims, err := wc.srv.verifyAccess(token)
	if err != nil {
		wc.fatalAuth(live.CodeUnauthorized, err.Error())
		return false
	}
	conn, err := wc.st.m.Open(claims, wc.out)
	if err != nil {
		wc.fatalAuth(live.CodeShutdown, err.Error())
		return false
	}
	wc.gzip.Store(p.Compression == "gzip")
	// Before auth_success is queued: the writer switches to msgpack right
	// after writing it (wsConn.encode).
	wc.msgpack.Store(p.Serialization == "msgpack")
	wc.conn.Store(conn)
	wc.userID.Store(&claims.Subject)
	wc.authed.Store(true)
	wc.out.PushControl(live.AuthSuccessMessage(claims.Subject, string(claims.Role), p))
	return true
}

// verifyAccess checks an access token as the HTTP API does: valid
// signature and expiry, and a user that still exists with the same role
// and has not had its tokens revoked since.
func (s *Server) verifyAccess(token string) (auth.Claims, error) {
	claims, err := s.verifyAccessToken(token)
	switch {
	case errors.Is(err, errInactive):
		return auth.Claims{}, err
	case err != nil:
		return auth.Claims{}, errors.New("invalid or expired token")
	}
	return claims, nil
}

// fatalAuth sends auth_error and closes with a policy violation.
func (wc *wsConn) fatalAuth(code, msg string) {
	wc.out.PushControl(live.AuthErrorMessage(code, msg))
	wc.out.Close(live.ClosePolicyViolation, code)
}

// fatal sends an error and closes the connection with closeCode.
func (wc *wsConn) fatal(code, msg string, closeCode int) {
	wc.out.PushControl(live.ErrorMessage(live.SubIDProtocol, code, msg))
	wc.out.Close(closeCode, code)
}

// allow applies the per-connection message rate limit: a token bucket
// refilled at max_messages_per_second whose burst also covers
// authenticating and opening max_subscriptions_per_connection
// subscriptions at once.
func (wc *wsConn) allow() bool {
	rate := float64(wc.st.opts.MaxMessagesPerSecond)
	if rate <= 0 {
		return true
	}
	burst := rate + float64(wc.st.opts.MaxSubsPerConn) + 1
	now := time.Now()
	if wc.tokensAt.IsZero() {
		wc.tokens = burst
	} else {
		wc.tokens = min(burst, wc.tokens+now.Sub(wc.tokensAt).Seconds()*rate)
	}
	wc.tokensAt = now
	if wc.tokens < 1 {
		return false
	}
	wc.tokens--
	return true
}

// allowShared applies the limits shared by connections: per client IP
// (rate_limit.max_ws_messages_per_ip_per_sec) and, once authenticated, per
// user over all their connections (max_ws_messages_per_user_per_sec). It
// names the exhausted scope.
func (wc *wsConn) allowShared() (string, bool) {
	sec := wc.srv.sec
	now := time.Now()
	if !sec.wsIP.allow(wc.ip, now) {
		return "client address", false
	}
	if u := wc.userID.Load(); u != nil && !sec.wsUser.allow(*u, now) {
		return "user", false
	}
	return "", true
}

// startTimers arms the auth and idle timeouts; the returned func stops
// them. They only queue an error and a close: the writer does the rest.
func (wc *wsConn) startTimers() (stop func()) {
	o := wc.st.opts
	authT := time.AfterFunc(o.AuthTimeout, func() {
		if !wc.authed.Load() {
			wc.fatalAuth(live.CodeAuthTimeout, fmt.Sprintf("not authenticated within %s", o.AuthTimeout))
		}
	})
	var mu sync.Mutex
	stopped := false
	var idleT *time.Timer
	// One timer serves the idle timeout and the write watchdog: it fires
	// when the earlier of the two could expire.
	period := min(o.IdleTimeout, o.WriteTimeout)
	check := func() {
		now := time.Now()
		if ws := wc.writeStart.Load(); ws != 0 && now.Sub(time.Unix(0, ws)) >= o.WriteTimeout {
			// The client stopped reading: the socket has accepted nothing
			// for write_timeout. Closing unblocks the writer.
			wc.c.CloseNow()
			return
		}
		idle := now.Sub(time.Unix(0, wc.lastSeen.Load()))
		if idle >= o.IdleTimeout {
			wc.fatal(live.CodeIdleTimeout, fmt.Sprintf("no message or ping for %s", o.IdleTimeout), live.ClosePolicyViolation)
			return
		}
		mu.Lock()
		if !stopped {
			idleT.Reset(min(o.IdleTimeout-idle, period))
		}
		mu.Unlock()
	}
	mu.Lock()
	idleT = time.AfterFunc(period, func() { check() })
	mu.Unlock()
	return func() {
		authT.Stop()
		mu.Lock()
		stopped = true
		idleT.Stop()
		mu.Unlock()
	}
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// gzipThreshold: payloads at least this large are compressed when the
// client negotiated gzip (and only when that makes them smaller), as
// upstream does.
const gzipThreshold = 512

// writeBuf is a writer's scratch space, pooled because writers come and
// go with bursts of traffic.
type writeBuf struct {
	frames [][]byte
	arena  []byte
	zbuf   bytes.Buffer
	// For a msgpack connection (ws_msgpack.go): bin[i] tells that
	// frames[i] is MessagePack (transcoded into mp); empty for JSON.
	bin   []bool
	mp    []byte
	spans []int
}

var writeBufPool = sync.Pool{New: func() any { return &writeBuf{} }}

// putWriteBuf returns wb to the pool.
func putWriteBuf(wb *writeBuf) {
	clear(wb.frames)
	wb.frames = wb.frames[:0]
	wb.bin = wb.bin[:0]
	if cap(wb.arena) > 1<<20 {
		wb.arena = nil // do not pin a burst's worth of memory
	}
	if cap(wb.mp) > 1<<20 {
		wb.mp = nil
	}
	writeBufPool.Put(wb)
}

// writeRun is a connection's own writer, started by a flusher that took
// frames it could not write without blocking (ws_flush.go): it writes
// them (wb, already encoded, and a pending close), then what is queued next, until the
// outbox is empty; on a queued close it closes the connection. It owns
// the connection's writer slot and wb.
func (wc *wsConn) writeRun(wb *writeBuf, closing bool, code int, reason string) {
	defer wc.wg.Done()
	defer putWriteBuf(wb)
	for {
		if len(wb.frames) == 0 && !closing {
			wc.wmu.Lock()
			if !wc.pending || wc.stopped {
				wc.writing = false
				wc.wmu.Unlock()
				return
			}
			wc.pending = false
			wc.wmu.Unlock()
		} else {
			if !wc.write(wb) {
				wc.finishWriter()
				wc.c.CloseNow()
				return
			}
			if closing {
				wc.finishWriter()
				// Close performs the closing handshake; the reader then sees
				// the connection end and the handler finishes.
				_ = wc.c.Close(websocket.StatusCode(code), reason)
				return
			}
		}
		var ok bool
		if closing, code, reason, ok = wc.take(wb); !ok {
			wc.finishWriter()
			wc.c.CloseNow()
			return
		}
	}
}

// take moves what wc has queued into wb, transcoded for the connection
// (encode); ok is false when transcoding failed and the connection must
// be closed. Only the holder of the writer slot calls it.
func (wc *wsConn) take(wb *writeBuf) (closing bool, code int, reason string, ok bool) {
	var more bool
	limit := takeMaxBytes
	if wc.sock.congested() {
		limit = congestedTakeBytes
	}
	wb.frames, wb.arena, closing, code, reason, more = wc.out.TakeUpTo(wb.frames[:0], wb.arena, limit)
	if more {
		// The writer comes back for the rest (writeRun loops; a flusher
		// requeues the connection at the tail of the ready list).
		wc.wmu.Lock()
		wc.pending = true
		wc.wmu.Unlock()
	}
	return closing, code, reason, wc.encode(wb)
}

// takeMaxBytes bounds what one take moves out of the outbox (about two
// merged change frames, the order of a socket's send buffer): a writer
// blocked on a client that does not read holds and has encoded only that
// much, not its whole backlog, and a flusher serves a busy connection in
// turns.
const takeMaxBytes = 512 << 10

// congestedTakeBytes bounds a take when the socket's send queue is
// already backed up (sockRoom.congested): the frames would wait for the
// client anyway, and what a writer has taken is its own copy of shared
// bytes (the frame arena). With 200 clients that stopped reading, 512 KiB
// each was 100 MiB of copies; 32 KiB each is 6 MiB, while the queued
// changes stay shared by reference (docs/benchmarks.md, "Overload").
const congestedTakeBytes = 32 << 10

// finishWriter marks the connection closed for writing.
func (wc *wsConn) finishWriter() {
	wc.wmu.Lock()
	wc.writing, wc.closed = false, true
	wc.wmu.Unlock()
}

// write sends frames (gzip-compressing large ones when negotiated), in
// text frames, or binary ones for MessagePack (wb.bin, set by encode);
// false means the connection failed. Writes use a context without deadline,
// which costs the library no timer per message; a write stuck on a client
// that stopped reading is caught by the watchdog (startTimers), which
// closes the connection after write_timeout.
func (wc *wsConn) write(wb *writeBuf) bool {
	for i, f := range wb.frames {
		typ := websocket.MessageText
		if len(wb.bin) > 0 && wb.bin[i] {
			typ = websocket.MessageBinary
		}
		if wc.gzip.Load() && len(f) >= gzipThreshold {
			wb.zbuf.Reset()
			zw := gzipPool.Get().(*gzip.Writer)
			zw.Reset(&wb.zbuf)
			_, _ = zw.Write(f)
			_ = zw.Close()
			gzipPool.Put(zw)
			if wb.zbuf.Len() < len(f) {
				f, typ = wb.zbuf.Bytes(), websocket.MessageBinary
			}
		}
		wc.writeStart.Store(time.Now().UnixNano())
		wc.out.Writing()
		err := wc.c.Write(context.Background(), typ, f)
		wc.writeStart.Store(0)
		if err != nil {
			return false
		}
		wc.out.Progress()
		wc.srv.metrics.wsSent.Inc()
	}
	// The frames are in the kernel's hands: their bytes no longer count
	// against the queue budgets.
	wc.out.Sent()
	return true
}
