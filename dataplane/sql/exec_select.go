package sql

import (
	"context"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/catalog"
	"github.com/kalamdb/kalamdb-k8s/dataplane/datatype"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/expr"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// resolver maps table references in SQL text to virtual tables, recording
// each one so the statement can declare them and check permissions.
type resolver struct {
	e    *Engine
	sess *Session
	// allUsers: the statement is a SELECT whose USER tables read every
	// user's rows (auth.Role.ReadsAllUsers); such a table is declared as
	// its own virtual table, named with allUsersSuffix.
	allUsers bool
	tables   map[string]*catalog.Table
	views    map[string]string
	// collate is set when the statement mentions COLLATE.
	collate bool
}

func newResolver(e *Engine, sess *Session) *resolver {
	return &resolver{e: e, sess: sess, tables: map[string]*catalog.Table{}, views: map[string]string{}}
}

func (r *resolver) ResolveTable(ns, name string) (string, bool) {
	if ns == "" {
		ns = r.sess.Namespace
	}
	if ns == "system" {
		if _, ok := systemViews[name]; ok {
			vt := "system." + name
			r.views[vt] = name
			return vt, true
		}
		return "", false
	}
	if ns == InfoSchemaNamespace {
		return r.resolveInfoSchema(name)
	}
	t, ok := r.e.cat.Table(ns, name)
	if !ok {
		return "", false
	}
	vt := t.QualifiedName()
	if r.allUsers && t.Type == catalog.TableUser {
		vt += allUsersSuffix
	}
	r.tables[vt] = t
	return vt, true
}

// KeyColumn implements parse.KeyResolver: the primary-key column of a
// resolved table ("" for system views and keyless tables).
func (r *resolver) KeyColumn(vtab string) string {
	t, ok := r.tables[vtab]
	if !ok || t.PKIndex() < 0 {
		return ""
	}
	return strings.ToLower(t.Columns[t.PKIndex()].Name)
}

// ColumnKind implements parse.ColumnTyper: string literals compared with
// TIMESTAMP, DATE and BOOLEAN columns are converted at plan time.
func (r *resolver) ColumnKind(vtab, col string) string {
	t, ok := r.tables[vtab]
	if !ok {
		return ""
	}
	i := t.ColumnIndex(col)
	if i < 0 {
		return ""
	}
	return expr.LiteralKind(t.Columns[i].Type)
}

// ColumnPGType implements parse.ColumnTypeResolver: operators on columns
// take PostgreSQL's typed semantics. System views are not typed.
// ColumnNumeric implements parse.ColumnScaleResolver: the declared
// precision and scale of a DECIMAL(p,s) column.
func (r *resolver) ColumnNumeric(vtab, col string) (int, int, bool) {
	t, ok := r.tables[vtab]
	if !ok {
		return 0, 0, false
	}
	i := t.ColumnIndex(col)
	if i < 0 || t.Columns[i].Type.Kind != datatype.Decimal {
		return 0, 0, false
	}
	return t.Columns[i].Type.Precision, t.Columns[i].Type.Scale, true
}

func (r *resolver) ColumnPGType(vtab, col string) (string, bool) {
	t, ok := r.tables[vtab]
	if !ok {
		return "", false
	}
	i := t.ColumnIndex(col)
	if i < 0 {
		return "", true
	}
	return pgTypeName(t.Columns[i].Type), true
}

// pgTypeName is the PostgreSQL type of a column of type t as
// parse.ColumnTypeResolver names it.
func pgTypeName(t datatype.Type) string {
	switch t.Kind {
	case datatype.SmallInt:
		return "int2"
	case datatype.Int:
		return "int4"
	case datatype.BigInt:
		return "int8"
	case datatype.Decimal:
		return "numeric"
	case datatype.Float, datatype.Double:
		return "float8"
	case datatype.Text:
		return "text"
	case datatype.Boolean:
		return "boolean"
	case datatype.Timestamp, datatype.DateTime:
		return "timestamp"
	case datatype.Date:
		return "date"
	}
	return "other"
}

// StarColumns implements parse.StarColumnResolver: the columns SELECT *
// of a resolved table returns (hidden ones excluded, the system columns
// appended under Options.SelectStarSystemColumns, as declareTable does).
func (r *resolver) StarColumns(vtab string) ([]string, bool) {
	t, ok := r.tables[vtab]
	if !ok {
		return nil, false
	}
	cols := make([]string, 0, len(t.Columns)+2)
	for _, c := range t.Columns {
		if !c.Hidden {
			cols = append(cols, c.Name)
		}
	}
	if r.e.opts.SelectStarSystemColumns {
		cols = append(cols, "_seq", "_deleted")
	}
	return cols, true
}

func (r *resolver) IsNamespace(name string) bool {
	if name == "system" || name == InfoSchemaNamespace {
		return true
	}
	_, ok := r.e.cat.Namespace(name)
	return ok
}

// tableTypes lists the kinds of the resolved tables (for the read fence).
func (r *resolver) tableTypes() []catalog.TableType {
	out := make([]catalog.TableType, 0, len(r.tables))
	for _, t := range r.tables {
		out = append(out, t.Type)
	}
	return out
}

// checkRead enforces read permissions on every referenced table.
func (r *resolver) checkRead() error {
	if r.adminViews() && !r.sess.Role.IsAdmin() {
		return denied("system tables are readable by dba and system roles only")
	}
	for _, t := range r.tables {
		if err := canRead(r.sess.Role, t); err != nil {
			return err
		}
	}
	return nil
}

// canRead applies the SHARED table access levels (reference §7.2).
func canRead(role auth.Role, t *catalog.Table) error {
	if t.Type != catalog.TableShared {
		return nil
	}
	switch t.AccessLevel {
	case catalog.AccessPublic:
		return nil
	case catalog.AccessDBA:
		if role.IsAdmin() {
			return nil
		}
	default:
		if role != auth.RoleUser {
			return nil
		}
	}
	return denied("permission denied: role %s cannot read %s table %s (ACCESS_LEVEL %s)", role, t.Type, t.QualifiedName(), t.AccessLevel)
}

// canWrite applies write permissions.
func canWrite(role auth.Role, t *catalog.Table) error {
	if t.Type != catalog.TableShared {
		return nil
	}
	if t.AccessLevel == catalog.AccessDBA {
		if role.IsAdmin() {
			return nil
		}
	} else if role != auth.RoleUser {
		return nil
	}
	return denied("permission denied: role %s cannot write %s table %s (ACCESS_LEVEL %s)", role, t.Type, t.QualifiedName(), t.AccessLevel)
}

// rewriteKey identifies a rewrite: its output depends on the text, the
// session (current namespace, CURRENT_USER/ROLE) and the catalog version.
type rewriteKey struct {
	text, ns, user string
	role           auth.Role
	allUsers       bool
}

type rewriteEntry struct {
	version uint64
	rw      *parse.Rewritten
	r       *resolver
}

// maxRewriteCache bounds the rewrite cache; it is cleared when full.
const maxRewriteCache = 4096

// rewrite turns SQL text into SQLite SQL plus the tables it reads. Results
// are cached per session shape and catalog version: the resolver's maps are
// read-only once built, so a cached entry is safe to share.
func (e *Engine) rewrite(sess *Session, text string) (*parse.Rewritten, *resolver, error) {
	return e.rewriteFor(sess, text, false)
}

// rewriteRead is rewrite for a query the caller reads (SELECT, EXPLAIN,
// Describe): for a role that reads every user's rows (system, dba,
// service, as in the original KalamDB) its USER tables read all users.
// DML's matching reads, live queries and EXECUTE AS USER use rewrite: they
// act on one user's rows.
func (e *Engine) rewriteRead(sess *Session, text string) (*parse.Rewritten, *resolver, error) {
	return e.rewriteFor(sess, text, sess.Role.ReadsAllUsers())
}

func (e *Engine) rewriteFor(sess *Session, text string, allUsers bool) (*parse.Rewritten, *resolver, error) {
	key := rewriteKey{text: text, ns: sess.Namespace, user: sess.UserID, role: sess.Role, allUsers: allUsers}
	version := e.cat.Version()
	e.rwMu.Lock()
	ent, ok := e.rwCache[key]
	e.rwMu.Unlock()
	if ok && ent.version == version {
		r := *ent.r
		r.sess = sess
		return ent.rw, &r, nil
	}
	r := newResolver(e, sess)
	r.allUsers = allUsers
	rw, err := parse.Rewrite(text, r, parse.RewriteOptions{CurrentUser: sess.UserID, CurrentRole: string(sess.Role), ExactTwins: true})
	if err != nil {
		return nil, nil, err
	}
	r.collate = strings.Contains(strings.ToLower(rw.SQL), "collate")
	e.rwMu.Lock()
	if len(e.rwCache) >= maxRewriteCache {
		clear(e.rwCache)
	}
	e.rwCache[key] = &rewriteEntry{version: version, rw: rw, r: r}
	e.rwMu.Unlock()
	return rw, r, nil
}

// readsWideDecimal reports whether columns cols of t include a DECIMAL
// wider than a double: the point fast path prints through a double, the
// SQLite path prints such a column's stored text (parse.ExactColumnName).
func readsWideDecimal(t *catalog.Table, cols []int) bool {
	for _, p := range cols {
		if p >= 0 && t.Columns[p].Type.Kind == datatype.Decimal && t.Columns[p].Type.Precision > parse.ExactDoubleDigits {
			return true
		}
	}
	return false
}

// maxReplans bounds how often a SELECT is planned again because meta's
// read barrier advanced the catalog it was planned on (errReplan). Once
// meta is fenced the next plan needs no check, so one replan suffices; the
// bound is a guard.
const maxReplans = 3

func (e *Engine) execSelect(ctx context.Context, sess *Session, text string, params []any) (*Result, error) {
	for n := 0; ; n++ {
		res, err := e.execSelectOnce(ctx, sess, text, params)
		if _, replan := err.(errReplan); !replan || n == maxReplans {
			return res, err
		}
	}
}

// execSelectOnce plans and runs one SELECT; the read fence (readfence.go)
// runs once its tables are resolved, before anything is read.
func (e *Engine) execSelectOnce(ctx context.Context, sess *Session, text string, params []any) (*Result, error) {
	planned := e.cat.Version()
	// One lexing serves the point-lookup and aggregate fast paths and the
	// literal auto-parameterisation; text that does not lex goes straight to
	// the rewriter, which reports the error.
	if toks, err := parse.Lex(text); err == nil {
		if q, ok := e.matchPointQuery(sess, toks, params); ok && !readsWideDecimal(q.table, q.cols) {
			if err := e.fenceRead(ctx, sess, planned, []catalog.TableType{q.table.Type}, false); err != nil {
				return nil, err
			}
			res, err := e.runPointQuery(sess, q)
			if err != errNotFastPath {
				return res, err
			}
		}
		if q, ok := e.matchAggQuery(sess, text, toks, params); ok {
			if err := e.fenceRead(ctx, sess, planned, []catalog.TableType{q.table.Type}, false); err != nil {
				return nil, err
			}
			res, err := e.runAggQuery(ctx, sess, q)
			if !errors.Is(err, errNotFastPath) {
				if err == nil {
					typeAggResult(q, res)
				}
				return res, err
			}
		}
		text, params = autoParameterizeTokens(text, toks, params)
	}
	rw, r, err := e.rewriteRead(sess, text)
	if err != nil {
		return nil, err
	}
	if err := r.checkRead(); err != nil {
		return nil, err
	}
	if err := e.fenceRead(ctx, sess, planned, r.tableTypes(), len(r.views) > 0); err != nil {
		return nil, err
	}
	q := rw.SQL
	defLimit, maxRows, capName := e.rowCaps(ctx)
	if !rw.HasLimit && defLimit > 0 {
		// One row more than returned tells a cut answer from a full one.
		q += "\nLIMIT " + strconv.Itoa(defLimit+1)
		if maxRows <= 0 || defLimit < maxRows {
			maxRows, capName = defLimit, "limits.default_query_limit (the query has no LIMIT)"
		}
	}
	if rw.NumParams > len(params) {
		return nil, badRequest(CodeInvalidParameter, "statement uses $%d but %d parameter(s) were given", rw.NumParams, len(params))
	}
	if len(rw.ParamKinds) > 0 {
		if params, err = convertParams(rw.ParamKinds, params); err != nil {
			return nil, err
		}
	}
	var res *Result
	err = e.withStatement(ctx, sess, r, func(cs *connState) error {
		var err error
		res, err = cs.query(ctx, q, params, maxRows, e.opts.MaxResultBytes, rw.Columns, rw.Exact)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.Truncated {
		res.Message = truncatedMessage(maxRows, capName)
	}
	return res, nil
}

// convertParams gives string parameters compared with TIMESTAMP, DATE or
// BOOLEAN columns the column's representation (parse.ConvertParam), on a
// copy: the caller's slice is left alone.
func convertParams(kinds map[int]string, params []any) ([]any, error) {
	out := append([]any(nil), params...)
	for n, kind := range kinds {
		if n < 1 || n > len(out) {
			continue
		}
		v, err := parse.ConvertParam(kind, out[n-1])
		if err != nil {
			// A literal the rewrite turned into $n fails like the literal
			// (22P02, 22007, 22008), a client's parameter alike.
			var pe *parse.Error
			if errors.As(err, &pe) && pe.State != "" {
				return nil, pgStateError(&pgfn.Error{State: pe.State, Msg: fmt.Sprintf("parameter $%d: %s", n, pe.Msg)})
			}
			return nil, badRequest(CodeInvalidParameter, "parameter $%d: %v", n, err)
		}
		out[n-1] = v
	}
	return out, nil
}

// withStatement leases a connection, declares the statement's tables, and
// pins one storage snapshot for the whole statement.
func (e *Engine) withStatement(ctx context.Context, sess *Session, r *resolver, fn func(cs *connState) error) error {
	return e.pool.with(ctx, func(cs *connState) error {
		for name, t := range r.tables {
			if err := cs.ensureVTab(ctx, name, t); err != nil {
				return err
			}
		}
		for name, view := range r.views {
			if err := cs.ensureSystemVTab(ctx, name, view); err != nil {
				return err
			}
		}
		snap := e.db.NewSnapshot()
		cs.sess, cs.snap, cs.noPrefilter = sess, snap, r.collate
		defer func() {
			cs.sess, cs.snap, cs.noPrefilter = nil, nil, false
			snap.Close()
		}()
		return fn(cs)
	})
}

// truncatedMessage tells the client an answer was cut and how to page.
func truncatedMessage(n int, capName string) string {
	return fmt.Sprintf("result truncated to %d rows by %s; page with ORDER BY key LIMIT/OFFSET, or WHERE key > last key ORDER BY key LIMIT n", n, capName)
}

// query runs q and converts the rows for the wire. At most maxRows rows are
// returned (the server-wide cap); when there were more, Truncated is set.
// The rows held stay under maxBytes (resultBytes; 0: no bound): a larger
// answer fails with RESULT_TOO_LARGE rather than grow the heap by what
// one client asked for (a row cap alone does not bound 1,000 rows of
// 10 MB, nor the wire's 1,000,000).
//
// computed holds the rewriter's types of computed result columns
// (parse.Rewritten.Columns): they apply where SQLite declares no type.
func (cs *connState) query(ctx context.Context, q string, params []any, maxRows, maxBytes int, computed []string, exact []int) (*Result, error) {
	st, rows, err := cs.run(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if st.names == nil {
		names := rows.Columns()
		st.types = make([]datatype.Type, len(names))
		st.typed = make([]bool, len(names))
		if ct, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
			for i := range names {
				st.types[i], st.typed[i] = datatype.FromSQLiteDecl(ct.ColumnTypeDatabaseTypeName(i))
			}
		}
		st.names = names
	}
	names, types, typed := st.names, st.types, st.typed
	if exact != nil && len(exact) <= len(names) {
		names = names[:len(exact)] // the exact twins are printed, not returned
	} else {
		exact = nil
	}
	var twinScale []int // per column: scale of its first twin value, -1 none
	if exact != nil {
		twinScale = make([]int, len(exact))
		for i := range twinScale {
			twinScale[i] = -1
		}
	}
	if len(computed) == len(names) {
		types, typed = append([]datatype.Type(nil), types...), append([]bool(nil), typed...)
		for i, c := range computed {
			if k, ok := computedKinds[c]; ok && !typed[i] {
				types[i], typed[i] = datatype.Type{Kind: k}, true
			}
		}
	}
	res := &Result{Schema: make([]Field, len(names))}
	dest := make([]driver.Value, len(st.names))
	firstKind := make([]string, len(names))
	held := 0
	for {
		if err := rows.Next(dest); err != nil {
			if err == io.EOF {
				break
			}
			return nil, sqliteError(err)
		}
		if maxRows > 0 && len(res.Rows) >= maxRows {
			res.Truncated = true
			break
		}
		row := make([]any, len(names))
		for i, v := range dest[:len(names)] {
			if exact != nil && exact[i] >= 0 {
				if s, ok := dest[exact[i]].(string); ok {
					row[i] = s
					if twinScale[i] < 0 {
						twinScale[i] = exactScale(s)
					}
					held += resultBytes(s)
					continue
				}
			}
			row[i] = wireValue(types[i], typed[i], v)
			if firstKind[i] == "" && v != nil {
				firstKind[i] = dynamicTypeName(v)
			}
			held += resultBytes(row[i])
		}
		if maxBytes > 0 && held > maxBytes {
			return nil, badRequest(CodeResultTooLarge, "the result holds more than %d bytes of rows (limits.max_result_bytes) after %d rows; page with WHERE key > last key ORDER BY key LIMIT n, or select fewer columns", maxBytes, len(res.Rows))
		}
		res.Rows = append(res.Rows, row)
	}
	for i, n := range names {
		dt := firstKind[i]
		if twinScale != nil && twinScale[i] >= 0 {
			dt = datatype.Type{Kind: datatype.Decimal, Precision: 38, Scale: min(twinScale[i], 38)}.String()
		} else if typed[i] {
			dt = types[i].String()
		} else if dt == "" {
			dt = "NULL"
		}
		res.Schema[i] = Field{Name: n, DataType: dt, Index: i}
	}
	res.RowCount = len(res.Rows)
	return res, nil
}

// exactScale is the display scale of an exact twin's decimal text.
func exactScale(s string) int {
	if k := strings.IndexByte(s, '.'); k >= 0 {
		return len(s) - k - 1
	}
	return 0
}

// resultBytes is what one wire value is charged against
// limits.max_result_bytes: its payload plus 16 bytes (the interface
// holding it).
func resultBytes(v any) int {
	switch x := v.(type) {
	case string:
		return 16 + len(x)
	case []byte:
		return 16 + len(x)
	case json.Number:
		return 16 + len(x)
	}
	return 16 + 8
}

// typeAggResult types the answers of the aggregate pushdown as the
// SQLite path types the same select list, by the rewriter's own rule
// (parse.AggregateResult): a numeric result prints as an exact twin does
// (sum of a BIGINT, avg of integers), avg without a twin (of a BOOLEAN,
// which PostgreSQL has none of) is a double, and min/max of a TIMESTAMP,
// DATE or BOOLEAN column is of the column's type rather than a bare
// integer.
func typeAggResult(q *aggQuery, res *Result) {
	for i, a := range q.aggs {
		if i >= len(res.Schema) || a.col < 0 {
			continue
		}
		ct := q.table.Columns[a.col].Type
		column, numeric := parse.AggregateResult(a.kind.sqlName(), pgTypeName(ct))
		switch {
		case numeric:
			for _, row := range res.Rows {
				if row[i] == nil {
					continue
				}
				scale := 0
				if s, ok := row[i].(string); ok {
					scale = min(exactScale(s), 38)
				}
				res.Schema[i].DataType = datatype.Type{Kind: datatype.Decimal, Precision: 38, Scale: scale}.String()
				break
			}
		case a.kind == aggAvg:
			for _, row := range res.Rows {
				if s, ok := row[i].(string); ok {
					if f, err := strconv.ParseFloat(s, 64); err == nil {
						row[i] = f
						res.Schema[i].DataType = "DOUBLE"
					}
				}
			}
		case column != "":
			for _, row := range res.Rows {
				if s, ok := row[i].(string); ok {
					if n, err := strconv.ParseInt(s, 10, 64); err == nil {
						row[i] = wireValue(ct, true, n)
					}
				}
			}
			res.Schema[i].DataType = ct.String()
		}
	}
}

// computedKinds maps the rewriter's computed column types to ours.
var computedKinds = map[string]datatype.Kind{"boolean": datatype.Boolean, "timestamp": datatype.Timestamp, "date": datatype.Date}

// sqliteParam converts a JSON parameter for SQLite.
func sqliteParam(p any) any {
	switch v := p.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	}
	return p
}

func dynamicTypeName(v any) string {
	switch v.(type) {
	case int64:
		return "BIGINT"
	case float64:
		return "DOUBLE"
	case []byte:
		return "BYTES"
	case bool:
		return "BOOLEAN"
	}
	return "TEXT"
}

// wireValue converts an SQLite result value to its JSON wire form:
// 64-bit integers as strings (JavaScript-safe), INT/SMALLINT as numbers,
// BOOLEAN as true/false, timestamps as epoch microseconds, DECIMAL as an
// exact string, bytes as base64.
func wireValue(t datatype.Type, typed bool, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		if !typed {
			return strconv.FormatInt(x, 10)
		}
		switch t.Kind {
		case datatype.Boolean:
			return x != 0
		case datatype.BigInt:
			return strconv.FormatInt(x, 10)
		case datatype.Decimal:
			return strconv.FormatFloat(float64(x), 'f', t.Scale, 64)
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		if typed && t.Kind == datatype.Decimal {
			return strconv.FormatFloat(x, 'f', t.Scale, 64)
		}
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case bool:
		return x
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// sqliteError turns an SQLite error into a statement error: they are user
// errors (bad column, type error in SQL, ...), never internal ones.
func sqliteError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	if err == context.DeadlineExceeded || err == context.Canceled {
		return errTimeout
	}
	msg := cleanSQLiteMessage(err.Error())
	if pe, ok := pgfn.ParseState(msg); ok {
		return pgStateError(pe)
	}
	return badRequest(CodeExecution, "%s", msg)
}
