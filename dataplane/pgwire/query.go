package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// txState is the ReadyForQuery transaction status.
type txState struct {
	status byte // 'I' idle, 'T' in a block, 'E' failed block
	wrote  bool // the block's one write statement already ran
}

func (t txState) indicator() byte {
	if t.status == 0 {
		return 'I'
	}
	return t.status
}

// field is one result column on the wire.
type field struct {
	name string
	ct   colType
}

// outcome is what one statement produced.
type outcome struct {
	fields  []field // nil: the statement returns no rows
	rows    [][]any
	tag     string
	notices []*pgproto3.NoticeResponse
	status  []*pgproto3.ParameterStatus
}

// loop reads messages until Terminate or the connection ends.
func (c *conn) loop(ctx context.Context) error {
	for {
		msg, err := c.be.Receive()
		c.idle.Store(false)
		if err != nil {
			var tooBig *pgproto3.ExceededMaxBodyLenErr
			if errors.As(err, &tooBig) {
				c.sendError(pgErr("54000", fmt.Sprintf("message of %d bytes exceeds the limit of %d", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)))
				_ = c.flush()
			}
			return err
		}
		if c.skipToSync {
			if _, ok := msg.(*pgproto3.Sync); !ok {
				if _, term := msg.(*pgproto3.Terminate); term {
					return nil
				}
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(ctx, m.String)
			c.ready()
		case *pgproto3.Parse:
			c.handleParse(m)
		case *pgproto3.Bind:
			c.handleBind(m)
		case *pgproto3.Describe:
			c.handleDescribe(ctx, m)
		case *pgproto3.Execute:
			c.handleExecute(ctx, m)
		case *pgproto3.Close:
			c.handleClose(m)
		case *pgproto3.Sync:
			c.skipToSync = false
			c.ready()
		case *pgproto3.Flush:
			if err := c.flush(); err != nil {
				return err
			}
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.FunctionCall:
			c.failExtended(pgErr(sqlstateFeatureNotSupported, "the fast-path function call interface is not supported"))
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Never in COPY mode: stray copy messages are ignored, as
			// PostgreSQL does outside COPY.
		default:
			c.sendError(pgErr(sqlstateProtocolViolation, fmt.Sprintf("unexpected message %T", msg)))
			_ = c.flush()
			return fmt.Errorf("unexpected message %T", msg)
		}
	}
}

func (c *conn) send(msg pgproto3.BackendMessage) {
	c.writeMu.Lock()
	c.be.Send(msg)
	c.writeMu.Unlock()
}

func (c *conn) flush() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.be.Flush()
}

func (c *conn) ready() {
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.tx.indicator()})
	_ = c.flush()
	if l := c.listen; l != nil && c.tx.indicator() == 'I' {
		c.idle.Store(true)
		select {
		case l.idleSig <- struct{}{}:
		default:
		}
	}
}

func (c *conn) sendError(e *pgError) {
	c.send(e.response())
}

// simpleQuery runs a Query message: every statement in order, stopping at
// the first error. An empty query gets EmptyQueryResponse.
func (c *conn) simpleQuery(ctx context.Context, text string) {
	stmts, err := parse.SplitStatements(text)
	if err != nil {
		c.sendError(toPGError(err))
		c.failTx()
		return
	}
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	for _, st := range stmts {
		out, err := c.run(ctx, classify(st), nil)
		if err != nil {
			c.sendError(toPGError(err))
			c.failTx()
			return
		}
		c.sendOutcome(out, nil, 0, true)
	}
}

// sendOutcome writes a statement's notices, rows and completion. formats
// are the result format codes (nil: text); withDesc also sends the
// RowDescription (simple protocol).
func (c *conn) sendOutcome(out *outcome, formats []int16, _ int, withDesc bool) {
	for _, n := range out.notices {
		c.send(n)
	}
	for _, s := range out.status {
		c.send(s)
	}
	if out.fields != nil && withDesc {
		c.send(rowDescription(out.fields, nil))
	}
	if out.fields != nil {
		for _, row := range out.rows {
			dr, err := c.dataRow(out.fields, row, formats)
			if err != nil {
				c.sendError(err)
				return
			}
			c.send(dr)
		}
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(out.tag)})
}

func rowDescription(fields []field, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(fields))}
	for i, f := range fields {
		rd.Fields[i] = pgproto3.FieldDescription{Name: []byte(f.name), DataTypeOID: f.ct.oid, DataTypeSize: f.ct.size, TypeModifier: f.ct.mod, Format: formatFor(formats, i)}
	}
	return rd
}

func formatFor(formats []int16, i int) int16 {
	switch len(formats) {
	case 0:
		return 0
	case 1:
		return formats[0]
	}
	if i < len(formats) {
		return formats[i]
	}
	return 0
}

func (c *conn) dataRow(fields []field, row []any, formats []int16) (*pgproto3.DataRow, *pgError) {
	dr := &pgproto3.DataRow{Values: make([][]byte, len(fields))}
	for i, f := range fields {
		var v any
		if i < len(row) {
			v = row[i]
		}
		var b []byte
		var err error
		if formatFor(formats, i) == 1 {
			b, err = binaryValue(c.typeMap(), f.ct, v)
		} else {
			b, err = textValue(f.ct, v)
		}
		if err != nil {
			return nil, pgErr("22P03", fmt.Sprintf("column %q: cannot encode %v as type OID %d: %v", f.name, v, f.ct.oid, err))
		}
		if b == nil && v != nil {
			b = []byte{}
		}
		dr.Values[i] = b
	}
	return dr, nil
}

// failTx marks an open transaction block failed after an error.
func (c *conn) failTx() {
	if c.tx.status == 'T' {
		c.tx.status = 'E'
	}
}

// run executes one classified statement with the session's transaction
// rules. A prepared statement is classified once, at Parse: lexing a
// 1,000-row INSERT again on every Execute cost a fifth of the listener's
// CPU in W2.
func (c *conn) run(ctx context.Context, cl classified, params []any) (*outcome, error) {
	if c.tx.status == 'E' && cl.kind != kCommit && cl.kind != kRollback {
		return nil, pgErr(sqlstateInFailedTx, "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch cl.kind {
	case kEmpty:
		return &outcome{tag: ""}, nil
	case kBegin:
		out := &outcome{tag: "BEGIN"}
		if c.tx.status == 'T' {
			out.notices = append(out.notices, warning("25001", "there is already a transaction in progress"))
		}
		c.tx = txState{status: 'T'}
		return out, nil
	case kCommit:
		out := &outcome{tag: "COMMIT"}
		switch c.tx.status {
		case 'E':
			out.tag = "ROLLBACK"
		case 'T':
		default:
			out.notices = append(out.notices, warning("25P01", "there is no transaction in progress"))
		}
		c.tx = txState{status: 'I'}
		return out, nil
	case kRollback:
		wrote := c.tx.status == 'T' && c.tx.wrote
		inTx := c.tx.status != 'I' && c.tx.status != 0
		c.tx = txState{status: 'I'}
		if wrote {
			return nil, pgErr(sqlstateFeatureNotSupported, "ROLLBACK cannot undo the write statement of this transaction block: KalamDB applies each statement atomically when it runs (single-statement transactions, docs/postgres-wire.md#transactions)")
		}
		out := &outcome{tag: "ROLLBACK"}
		if !inTx {
			out.notices = append(out.notices, warning("25P01", "there is no transaction in progress"))
		}
		return out, nil
	case kSavepoint:
		return nil, pgErr(sqlstateFeatureNotSupported, "savepoints are not supported (single-statement transactions, docs/postgres-wire.md#transactions)")
	case kSet:
		return c.execSet(cl)
	case kShow:
		if out, ok := c.execShow(cl); ok {
			return out, nil
		}
	case kReset:
		return c.execReset(cl)
	case kDiscard:
		c.stmts, c.portals = map[string]*prepared{}, map[string]*portal{}
		c.stopListening()
		return &outcome{tag: "DISCARD ALL"}, nil
	case kDeallocate:
		return c.execDeallocate(cl)
	case kCopy:
		return nil, pgErr(sqlstateFeatureNotSupported, "COPY is not supported; use INSERT with several VALUES rows (docs/postgres-wire.md)")
	case kListen:
		return c.execListen(ctx, cl)
	case kUnlisten:
		return c.execUnlisten(cl)
	case kUse:
		return c.execUse(cl)
	case kNoop:
		return &outcome{tag: cl.tag}, nil
	}
	if cl.write && c.tx.status == 'T' {
		if c.tx.wrote {
			c.tx.status = 'E'
			return nil, pgErr(sqlstateFeatureNotSupported, "a transaction block may hold one write statement: KalamDB has no multi-statement transactions (docs/postgres-wire.md#transactions); this block is now aborted")
		}
		c.tx.wrote = true
	}
	if isCatalogQuery(cl) {
		return c.execCatalog(ctx, cl, params)
	}
	return c.execEngine(ctx, cl, params)
}

// execEngine runs a statement on the SQL engine.
func (c *conn) execEngine(ctx context.Context, cl classified, params []any) (*outcome, error) {
	s := c.srv
	if s.opts.AllowQuery != nil && !s.opts.AllowQuery(c.sess.UserID) {
		return nil, pgErr("53400", "too many queries for this user (rate_limit.max_queries_per_sec)")
	}
	text := cl.text
	sctx, done := c.statementContext(ctx)
	start := time.Now()
	var results []kalamsql.Result
	var err error
	if cl.prep != nil {
		var res kalamsql.Result
		if res, err = s.eng.ExecutePrepared(kalamsql.WithRowCap(sctx, s.opts.MaxResultRows), c.sess, cl.prep, params); err == nil {
			results = []kalamsql.Result{res}
		}
	} else {
		text = normalizeLiteralCasts(c.rewriteSessionSQL(cl.text))
		results, err = s.eng.Execute(kalamsql.WithRowCap(sctx, s.opts.MaxResultRows), c.sess, kalamsql.Request{SQL: text, Params: params})
	}
	took := time.Since(start)
	cancelled := done()
	s.opts.Metrics.observeStatement(cl.tagWord(), took, err)
	if s.opts.SlowQuery > 0 && took >= s.opts.SlowQuery {
		s.log.Warn("slow query", "protocol", "postgres", "user", c.sess.UserID, "took_ms", took.Milliseconds(), "sql", truncate(text, 500), "err", err)
	}
	if err != nil {
		if cancelled {
			return nil, pgErr(sqlstateQueryCanceled, "canceling statement due to user request")
		}
		e := kalamsql.AsError(err)
		if e.Status >= 500 {
			s.log.Error("statement failed", "protocol", "postgres", "user", c.sess.UserID, "err", err)
		}
		return nil, err
	}
	if len(results) == 0 {
		return &outcome{tag: cl.tag}, nil
	}
	res := results[len(results)-1]
	if res.Truncated {
		// Never a silently shortened answer: the protocol has no flag for it.
		return nil, pgErr("54000", fmt.Sprintf("the result has more than %d rows (postgres_wire.max_result_rows); page with LIMIT/OFFSET, WHERE key > last key ORDER BY key LIMIT n, or a cursor", s.opts.MaxResultRows))
	}
	out := c.resultOutcome(cl, &res)
	if cl.tagWord() == "SUBSCRIBE" {
		c.rememberSubscription(out)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// resultOutcome converts an engine result.
func (c *conn) resultOutcome(cl classified, res *kalamsql.Result) *outcome {
	out := &outcome{}
	if res.Schema != nil || cl.returnsRows {
		out.fields = make([]field, len(res.Schema))
		for i, f := range res.Schema {
			out.fields[i] = field{name: f.Name, ct: typeForDataType(f.DataType)}
		}
		out.rows = res.Rows
		out.tag = "SELECT " + strconv.Itoa(len(res.Rows))
		return out
	}
	switch cl.tagWord() {
	case "INSERT":
		out.tag = "INSERT 0 " + strconv.Itoa(res.RowCount)
	case "UPDATE", "DELETE":
		out.tag = cl.tagWord() + " " + strconv.Itoa(res.RowCount)
	default:
		out.tag = cl.tag
	}
	if res.Message != "" {
		lm := strings.ToLower(res.Message)
		if strings.Contains(lm, "already exists") || strings.Contains(lm, "does not exist") {
			out.notices = append(out.notices, &pgproto3.NoticeResponse{Severity: "NOTICE", SeverityUnlocalized: "NOTICE", Code: "00000", Message: res.Message + ", skipping"})
		}
	}
	return out
}

func warning(code, msg string) *pgproto3.NoticeResponse {
	return &pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: code, Message: msg}
}
