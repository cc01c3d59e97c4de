package pgwire

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// maxPrepared bounds prepared statements and portals per connection.
const maxPrepared = 10000

// prepared is a Parse'd statement.
type prepared struct {
	text      string
	cl        classified
	paramOIDs []uint32
	// described caches the result columns found by Describe (nil: not yet).
	described []field
	noData    bool
}

// portal is a Bind'd statement: its parameters and result formats, and,
// once executed, the rows left to send (Execute row limits).
type portal struct {
	stmt    *prepared
	params  []any
	formats []int16
	out     *outcome
	sent    int
	done    bool
	// described is the columns a Describe of the portal sent from the
	// plan (nil: none, or the portal ran to describe itself).
	described []field
}

// failExtended reports an error in the extended protocol: the rest of the
// messages up to Sync are discarded.
func (c *conn) failExtended(e *pgError) {
	c.sendError(e)
	c.failTx()
	c.skipToSync = true
}

func (c *conn) handleParse(m *pgproto3.Parse) {
	if m.Name != "" {
		if _, dup := c.stmts[m.Name]; dup {
			c.failExtended(pgErr(sqlstateDuplicatePrepStmt, fmt.Sprintf("prepared statement %q already exists", m.Name)))
			return
		}
		if len(c.stmts) >= maxPrepared {
			c.failExtended(pgErr("54000", "too many prepared statements on this connection"))
			return
		}
	}
	stmts, err := parse.SplitStatements(m.Query)
	if err != nil {
		c.failExtended(toPGError(err))
		return
	}
	if len(stmts) > 1 {
		c.failExtended(pgErr(sqlstateSyntax, "cannot insert multiple commands into a prepared statement"))
		return
	}
	text := ""
	if len(stmts) == 1 {
		text = stmts[0]
	}
	p := &prepared{text: text, cl: classify(text)}
	if p.cl.kind == kEngine && !isCatalogQuery(p.cl) && !needsSessionRewrite(text) {
		// Parsed once here; a statement the engine cannot parse keeps
		// failing at Execute, as it did before.
		p.cl.prep, _ = c.srv.eng.Prepare(normalizeLiteralCasts(text))
	}
	n := maxParam(p.cl.toks)
	if len(m.ParameterOIDs) > n {
		n = len(m.ParameterOIDs)
	}
	inferred := c.inferParamTypes(p.cl, n)
	p.paramOIDs = make([]uint32, n)
	for i := range p.paramOIDs {
		if i < len(m.ParameterOIDs) && m.ParameterOIDs[i] != 0 {
			p.paramOIDs[i] = m.ParameterOIDs[i]
		} else {
			p.paramOIDs[i] = inferred[i]
		}
	}
	c.stmts[m.Name] = p
	c.send(&pgproto3.ParseComplete{})
}

// maxParam is the highest $N in toks.
func maxParam(toks []parse.Token) int {
	n := 0
	for _, t := range toks {
		if t.Kind == parse.TokParam {
			if v, err := strconv.Atoi(t.Value); err == nil && v > n {
				n = v
			}
		}
	}
	return n
}

func (c *conn) handleBind(m *pgproto3.Bind) {
	st, ok := c.stmts[m.PreparedStatement]
	if !ok {
		c.failExtended(pgErr(sqlstateUndefinedPrepStmt, fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)))
		return
	}
	if len(m.Parameters) != len(st.paramOIDs) {
		c.failExtended(pgErr(sqlstateProtocolViolation, fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d", len(m.Parameters), m.PreparedStatement, len(st.paramOIDs))))
		return
	}
	if m.DestinationPortal != "" && len(c.portals) >= maxPrepared {
		c.failExtended(pgErr("54000", "too many portals on this connection"))
		return
	}
	params := make([]any, len(m.Parameters))
	tm := c.typeMap()
	for i, raw := range m.Parameters {
		v, err := decodeParam(tm, st.paramOIDs[i], formatFor(m.ParameterFormatCodes, i), raw)
		if err != nil {
			c.failExtended(pgErr("22P02", fmt.Sprintf("parameter $%d: %v", i+1, err)))
			return
		}
		params[i] = v
	}
	c.portals[m.DestinationPortal] = &portal{stmt: st, params: params, formats: append([]int16(nil), m.ResultFormatCodes...)}
	c.send(&pgproto3.BindComplete{})
}

func (c *conn) handleDescribe(ctx context.Context, m *pgproto3.Describe) {
	switch m.ObjectType {
	case 'S':
		st, ok := c.stmts[m.Name]
		if !ok {
			c.failExtended(pgErr(sqlstateUndefinedPrepStmt, fmt.Sprintf("prepared statement %q does not exist", m.Name)))
			return
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
		fields, err := c.describe(ctx, st)
		if err != nil {
			c.failExtended(toPGError(err))
			return
		}
		if fields == nil {
			c.send(&pgproto3.NoData{})
			return
		}
		c.send(rowDescription(fields, nil))
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			c.failExtended(pgErr(sqlstateUndefinedCursor, fmt.Sprintf("portal %q does not exist", m.Name)))
			return
		}
		var fields []field
		if p.stmt.cl.returnsRows || p.stmt.cl.kind == kShow {
			if planned, ok := c.planFields(ctx, p.stmt.cl); ok && p.out == nil {
				fields, p.described = planned, planned
			} else {
				// Only running tells these columns (computed ones take
				// their values' types; SHOW and catalog queries are
				// answered by the listener): the portal runs once, now,
				// with its bound parameters, and Execute sends its rows.
				// Such statements only read.
				if err := c.runPortal(ctx, p); err != nil {
					c.failExtended(toPGError(err))
					return
				}
				fields = p.out.fields
			}
		}
		if fields == nil {
			c.send(&pgproto3.NoData{})
			return
		}
		c.send(rowDescription(fields, p.formats))
	default:
		c.failExtended(pgErr(sqlstateProtocolViolation, fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType)))
	}
}

// describe finds a statement's result columns without side effects. The
// engine's planner tells them without running anything (planFields);
// otherwise — a computed column, SHOW, a catalog query, all of them
// read-only — the statement runs once with NULL parameters. Statements
// that write return no rows and never run here.
func (c *conn) describe(ctx context.Context, st *prepared) ([]field, error) {
	if st.described != nil || st.noData {
		return st.described, nil
	}
	if !st.cl.returnsRows && st.cl.kind != kShow {
		st.noData = true
		return nil, nil
	}
	if c.tx.status == 'E' {
		return nil, pgErr(sqlstateInFailedTx, "current transaction is aborted, commands ignored until end of transaction block")
	}
	if fields, ok := c.planFields(ctx, st.cl); ok {
		st.described, st.noData = fields, fields == nil
		return fields, nil
	}
	out, err := c.run(ctx, st.cl, make([]any, len(st.paramOIDs)))
	if err != nil {
		return nil, err
	}
	if out.fields == nil {
		st.noData = true
		return nil, nil
	}
	st.described = out.fields
	return out.fields, nil
}

// planFields asks the engine for a statement's result columns without
// running it (sql.Engine.Describe). ok is false when only running it tells
// them: SHOW and catalog queries (answered by the listener), statements
// the engine cannot describe, and computed columns, whose type is that of
// their values (as over HTTP).
func (c *conn) planFields(ctx context.Context, cl classified) (fields []field, ok bool) {
	if cl.kind != kEngine || isCatalogQuery(cl) {
		return nil, false
	}
	fs, known, err := c.srv.eng.Describe(ctx, c.sess, normalizeLiteralCasts(c.rewriteSessionSQL(cl.text)))
	if err != nil || !known {
		// A statement that fails to plan fails when it runs, with the
		// same error.
		return nil, false
	}
	if fs == nil {
		return nil, true
	}
	fields = make([]field, len(fs))
	for i, f := range fs {
		if f.DataType == "" {
			return nil, false
		}
		fields[i] = field{name: f.Name, ct: typeForDataType(f.DataType)}
	}
	return fields, true
}

// runPortal executes the portal's statement once.
func (c *conn) runPortal(ctx context.Context, p *portal) error {
	if p.out != nil {
		return nil
	}
	out, err := c.run(ctx, p.stmt.cl, p.params)
	if err != nil {
		return err
	}
	told := p.described
	if told == nil {
		told = p.stmt.described
	}
	if out.fields != nil && told != nil && len(told) == len(out.fields) {
		// Keep the types the client was told at Describe time.
		out.fields = told
	}
	p.out = out
	return nil
}

func (c *conn) handleExecute(ctx context.Context, m *pgproto3.Execute) {
	p, ok := c.portals[m.Portal]
	if !ok {
		c.failExtended(pgErr(sqlstateUndefinedCursor, fmt.Sprintf("portal %q does not exist", m.Portal)))
		return
	}
	if p.stmt.text == "" || p.stmt.cl.kind == kEmpty {
		c.send(&pgproto3.EmptyQueryResponse{})
		return
	}
	if p.done {
		// Re-executing a finished portal returns nothing more.
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(p.out.tag)})
		return
	}
	if err := c.runPortal(ctx, p); err != nil {
		c.failExtended(toPGError(err))
		return
	}
	out := p.out
	if p.sent == 0 {
		for _, n := range out.notices {
			c.send(n)
		}
		for _, s := range out.status {
			c.send(s)
		}
	}
	if out.fields != nil {
		end := len(out.rows)
		if m.MaxRows > 0 && p.sent+int(m.MaxRows) < end {
			end = p.sent + int(m.MaxRows)
		}
		for _, row := range out.rows[p.sent:end] {
			dr, err := c.dataRow(out.fields, row, p.formats)
			if err != nil {
				c.failExtended(err)
				return
			}
			c.send(dr)
		}
		p.sent = end
		if p.sent < len(out.rows) {
			c.send(&pgproto3.PortalSuspended{})
			return
		}
	}
	p.done = true
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(out.tag)})
}

func (c *conn) handleClose(m *pgproto3.Close) {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		delete(c.portals, m.Name)
	default:
		c.failExtended(pgErr(sqlstateProtocolViolation, fmt.Sprintf("invalid CLOSE message subtype %d", m.ObjectType)))
		return
	}
	c.send(&pgproto3.CloseComplete{})
}

// typeMap returns the connection's pgtype map (not safe for concurrent
// use, so one per connection).
func (c *conn) typeMap() *pgtype.Map {
	if c.types == nil {
		c.types = pgtype.NewMap()
	}
	return c.types
}
