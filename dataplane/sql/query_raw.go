package sql

import (
	"context"
	"database/sql/driver"
	"io"
)

// queryRaw runs q and returns SQLite's values untouched (for the write
// path, which needs exact keys and values rather than wire forms).
func (cs *connState) queryRaw(ctx context.Context, q string, params []any, maxRows int) ([][]any, error) {
	_, rows, err := cs.run(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	dest := make([]driver.Value, len(rows.Columns()))
	for maxRows <= 0 || len(out) < maxRows {
		if err := rows.Next(dest); err != nil {
			if err == io.EOF {
				break
			}
			return nil, sqliteError(err)
		}
		row := make([]any, len(dest))
		for i, v := range dest {
			if b, ok := v.([]byte); ok {
				v = append([]byte(nil), b...)
			}
			row[i] = v
		}
		out = append(out, row)
	}
	return out, nil
}

// run prepares (or reuses) q and starts it with params bound to ?1..?N.
func (cs *connState) run(ctx context.Context, q string, params []any) (*cachedStmt, driver.Rows, error) {
	st, err := cs.prepare(ctx, q)
	if err != nil {
		return nil, nil, sqliteError(err)
	}
	args := make([]driver.NamedValue, len(params))
	for i, p := range params {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: sqliteParam(p)}
	}
	// Only the parameters the statement uses may be bound (NumInput is the
	// highest ?N).
	if n := st.NumInput(); n >= 0 && n < len(args) {
		args = args[:n]
	}
	rows, err := st.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, nil, sqliteError(err)
	}
	return st, rows, nil
}
