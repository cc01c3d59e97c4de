package sql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// execExplain answers EXPLAIN <query> with the plan SQLite chooses for the
// rewritten query: one TEXT column "QUERY PLAN", one row per step of
// SQLite's EXPLAIN QUERY PLAN, indented two spaces per nesting level and
// prefixed "-> " below the top, in the spirit of PostgreSQL's text format
// (the steps are SQLite's: SCAN, SEARCH ... USING INDEX, USE TEMP B-TREE
// FOR ORDER BY, ...). The query is checked and its tables' permissions
// enforced as for SELECT; it is not run.
//
// EXPLAIN ANALYZE (the original's, whose clients print it as a baseline)
// then runs the query as SELECT does and adds two rows, as PostgreSQL ends
// its output: "Actual Rows: N" and "Execution Time: X ms". The rows
// themselves are not returned.
func (e *Engine) execExplain(ctx context.Context, sess *Session, st *parse.Explain, params []any) (*Result, error) {
	text := st.SQL
	rw, r, err := e.rewriteRead(sess, text)
	if err != nil {
		return nil, err
	}
	if err := r.checkRead(); err != nil {
		return nil, err
	}
	if len(rw.ParamKinds) > 0 {
		if params, err = convertParams(rw.ParamKinds, params); err != nil {
			return nil, err
		}
	}
	for len(params) < rw.NumParams {
		params = append(params, nil)
	}
	res := &Result{Schema: []Field{{Name: "QUERY PLAN", DataType: "TEXT", Index: 0}}}
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		plan, err := cs.query(ctx, "EXPLAIN QUERY PLAN "+rw.SQL, params, 0, 0, nil, nil)
		if err != nil {
			return err
		}
		// Rows are (id, parent, notused, detail); depth follows parents.
		depth := map[string]int{"0": -1}
		for _, row := range plan.Rows {
			if len(row) < 4 {
				continue
			}
			id, parent, detail := asText(row[0]), asText(row[1]), asText(row[3])
			d := depth[parent] + 1
			depth[id] = d
			line := detail
			if d > 0 {
				line = strings.Repeat("  ", d) + "-> " + detail
			}
			res.Rows = append(res.Rows, []any{line})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.Analyze {
		start := time.Now()
		run, err := e.execSelect(ctx, sess, text, params)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		res.Rows = append(res.Rows,
			[]any{fmt.Sprintf("Actual Rows: %d", len(run.Rows))},
			[]any{fmt.Sprintf("Execution Time: %.3f ms", float64(elapsed.Microseconds())/1000)})
	}
	res.RowCount = len(res.Rows)
	return res, nil
}

// asText prints a plan cell (numbers come back as strings or numbers).
func asText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
