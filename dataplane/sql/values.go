package sql

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// literalValue converts a parsed literal to a Go value.
func literalValue(l parse.Literal) any {
	switch l.Kind {
	case parse.LitNull:
		return nil
	case parse.LitBool:
		return l.Bool
	case parse.LitInt:
		if i, err := strconv.ParseInt(l.Text, 10, 64); err == nil {
			return i
		}
		return json.Number(l.Text)
	case parse.LitFloat:
		if f, err := strconv.ParseFloat(l.Text, 64); err == nil {
			return f
		}
		return l.Text
	case parse.LitBlob:
		b, err := hex.DecodeString(l.Text)
		if err != nil {
			return l.Text
		}
		return b
	}
	return l.Text
}

// funcValue evaluates a KalamDB default/value function.
func (e *Engine) funcValue(sess *Session, name string) any {
	switch name {
	case parse.FuncNow, parse.FuncCurrentTimestamp:
		return e.now().UnixMicro()
	case parse.FuncSnowflakeID:
		return globalSnowflake.Next()
	case parse.FuncUUIDv7:
		return NewUUIDv7()
	case parse.FuncULID:
		return NewULID()
	case parse.FuncCurrentUser:
		return sess.UserID
	}
	return nil
}

// defaultValue evaluates a column's default, or nil when it has none.
func (e *Engine) defaultValue(sess *Session, c *catalog.Column) any {
	if c.Default == nil || c.Default.Null {
		return nil
	}
	if c.Default.Func != "" {
		return e.funcValue(sess, c.Default.Func)
	}
	return c.Default.Literal
}

// exprValue evaluates a value expression of INSERT or UPDATE ... SET, and
// coerces it to the column type. Raw expressions are evaluated by SQLite.
func (e *Engine) exprValue(ctx context.Context, sess *Session, c *catalog.Column, x parse.Expr, params []any) (any, error) {
	var v any
	switch x.Kind {
	case parse.ExprLiteral:
		v = literalValue(x.Lit)
		if c.Type.Kind == datatype.Decimal && (x.Lit.Kind == parse.LitFloat || x.Lit.Kind == parse.LitInt) {
			v = x.Lit.Text // exact: a double holds ~15 digits
		}
	case parse.ExprParam:
		if x.Param < 1 || x.Param > len(params) {
			return nil, badRequest(CodeInvalidParameter, "parameter $%d is missing (%d given)", x.Param, len(params))
		}
		v = params[x.Param-1]
	case parse.ExprFunc:
		v = e.funcValue(sess, x.Func)
	case parse.ExprDefault:
		v = e.defaultValue(sess, c)
	case parse.ExprRaw:
		var err error
		if v, err = e.evalRaw(ctx, sess, x.Raw, params, c.Type.Kind == datatype.Decimal); err != nil {
			return nil, err
		}
	}
	out, err := datatype.Coerce(c.Type, v)
	if err != nil {
		return nil, badRequest(CodeTypeMismatch, "column '%s': %v", c.Name, err)
	}
	return out, nil
}

// evalRaw evaluates one scalar SQL expression with SQLite; with exact, a
// numeric result is its exact twin's text (parse.Rewritten.Exact), for a
// DECIMAL column.
func (e *Engine) evalRaw(ctx context.Context, sess *Session, raw string, params []any, exact bool) (any, error) {
	rw, r, err := e.rewrite(sess, "SELECT "+raw)
	if err != nil {
		return nil, err
	}
	if err := r.checkRead(); err != nil {
		return nil, err
	}
	var v any
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		vals, err := cs.queryRaw(ctx, rw.SQL, params, 1)
		if err != nil {
			return err
		}
		if len(vals) == 1 && len(vals[0]) >= 1 {
			v = vals[0][0]
			if exact && len(rw.Exact) == 1 && rw.Exact[0] >= 0 && rw.Exact[0] < len(vals[0]) {
				if s, ok := vals[0][rw.Exact[0]].(string); ok {
					v = s
				}
			}
		}
		return nil
	})
	return v, err
}
