package sql

import (
	"context"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// Prepared is one statement parsed once and executed many times (the
// PostgreSQL listener's prepared statements). Parsing a 1,000-row INSERT
// again on every execution was a quarter of the engine's CPU in W2. The
// parsed statement names its tables and columns; they are resolved at each
// execution, under the session and catalog of that moment, exactly as
// Execute does.
type Prepared struct {
	text string
	st   parse.Statement
}

// Prepare parses text, which must hold exactly one statement.
func (e *Engine) Prepare(text string) (*Prepared, error) {
	if e.opts.MaxSQLBytes > 0 && len(text) > e.opts.MaxSQLBytes {
		return nil, badRequest(CodeInvalidInput, "SQL is %d bytes; the limit is %d", len(text), e.opts.MaxSQLBytes)
	}
	stmts, err := parse.SplitStatements(text)
	if err != nil {
		return nil, AsError(err)
	}
	if len(stmts) != 1 {
		return nil, badRequest(CodeInvalidSQL, "a prepared statement holds one statement (got %d)", len(stmts))
	}
	st, err := parse.Parse(stmts[0])
	if err != nil {
		return nil, AsError(err)
	}
	return &Prepared{text: stmts[0], st: st}, nil
}

// ExecutePrepared runs p with params as Execute runs a one-statement
// request.
func (e *Engine) ExecutePrepared(ctx context.Context, sess Session, p *Prepared, params []any) (Result, error) {
	if err := e.checkParams(params); err != nil {
		return Result{}, err
	}
	ctx, cancel := e.requestContext(ctx, &sess)
	defer cancel()
	ctx = e.withReadFence(ctx, false)
	res, err := e.execCaughtUp(ctx, &sess, p.text, p.st, params)
	if err != nil {
		return Result{}, err
	}
	return *res, nil
}
