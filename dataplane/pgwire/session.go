package pgwire

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/parse"
)

// pgVersion is the PostgreSQL version the listener reports: drivers pick
// protocol features by it (15 is what our catalog emulation follows).
const pgVersion = "15.0"

// reportedParams are sent as ParameterStatus after authentication and
// when SET changes them.
var reportedParams = []string{"server_version", "server_encoding", "client_encoding", "application_name",
	"DateStyle", "IntervalStyle", "TimeZone", "integer_datetimes", "standard_conforming_strings", "is_superuser", "session_authorization"}

// defaultParams are the session parameters SHOW knows before any SET.
var defaultParams = map[string]string{
	"server_encoding": "UTF8", "client_encoding": "UTF8", "application_name": "",
	"datestyle": "ISO, MDY", "intervalstyle": "postgres", "timezone": "UTC",
	"integer_datetimes": "on", "standard_conforming_strings": "on",
	"transaction_isolation": "read committed", "default_transaction_isolation": "read committed",
	"transaction_read_only": "off", "default_transaction_read_only": "off",
	"max_identifier_length": "63", "lc_collate": "C", "lc_ctype": "C", "extra_float_digits": "1",
	"statement_timeout": "0", "lock_timeout": "0", "idle_in_transaction_session_timeout": "0",
	"search_path": "default", "bytea_output": "hex", "client_min_messages": "notice",
	"row_security": "on", "synchronous_commit": "on", "jit": "off",
}

func (c *conn) paramValue(name string) string {
	l := strings.ToLower(name)
	switch l {
	case "server_version":
		v := pgVersion + " (KalamDB"
		if c.srv.opts.ServerVersion != "" {
			v += " " + c.srv.opts.ServerVersion
		}
		return v + ")"
	case "server_version_num":
		return "150000"
	case "is_superuser":
		if c.sess.Role.IsAdmin() {
			return "on"
		}
		return "off"
	case "session_authorization":
		return c.sess.UserID
	case "search_path":
		return c.sess.Namespace
	}
	if v, ok := c.params[l]; ok {
		return v
	}
	return defaultParams[l]
}

// execSet handles SET [SESSION|LOCAL] name {TO|=} value[, ...] and
// SET TIME ZONE / SET NAMES / SET SESSION CHARACTERISTICS (accepted).
func (c *conn) execSet(cl classified) (*outcome, error) {
	toks := cl.toks
	i := 1
	for i < len(toks) && toks[i].Kind == parse.TokIdent && (toks[i].Value == "session" || toks[i].Value == "local") {
		i++
	}
	if i >= len(toks) || toks[i].Kind == parse.TokEOF {
		return nil, pgErr(sqlstateSyntax, "syntax error at end of input")
	}
	name := strings.ToLower(toks[i].Value)
	if name == "transaction" || name == "characteristics" {
		return &outcome{tag: "SET"}, nil // isolation levels: every statement is its own snapshot
	}
	i++
	if name == "time" && i < len(toks) && toks[i].Value == "zone" {
		name, i = "timezone", i+1
	} else if name == "names" {
		name = "client_encoding"
	} else {
		for i+1 < len(toks) && toks[i].Text == "." { // SET x.y = ...
			name += "." + strings.ToLower(toks[i+1].Value)
			i += 2
		}
		if i < len(toks) && (toks[i].Text == "=" || (toks[i].Kind == parse.TokIdent && toks[i].Value == "to")) {
			i++
		}
	}
	var vals []string
	for ; i < len(toks) && toks[i].Kind != parse.TokEOF; i++ {
		t := toks[i]
		if t.Text == "," {
			continue
		}
		if t.Kind == parse.TokOp && t.Text == ";" {
			break
		}
		if t.Kind == parse.TokOp && (t.Text == "-" || t.Text == "+") && i+1 < len(toks) {
			vals = append(vals, t.Text+toks[i+1].Text)
			i++
			continue
		}
		vals = append(vals, t.Value)
	}
	value := strings.Join(vals, ", ")
	if len(vals) == 1 && strings.EqualFold(vals[0], "default") {
		delete(c.params, name)
		value = c.paramValue(name)
	}
	switch name {
	case "client_encoding":
		u := strings.ToUpper(strings.ReplaceAll(value, "-", ""))
		if u != "UTF8" && u != "UNICODE" {
			return nil, pgErr(sqlstateFeatureNotSupported, fmt.Sprintf("client_encoding %q is not supported: only UTF8", value))
		}
		value = "UTF8"
	case "search_path":
		c.setSearchPath(value)
		return &outcome{tag: "SET"}, nil
	case "timezone":
		if u := strings.ToUpper(strings.Trim(value, "'")); u != "UTC" && u != "GMT" && u != "ETC/UTC" && u != "Z" && u != "0" && u != "+00:00" {
			return nil, pgErr(sqlstateFeatureNotSupported, fmt.Sprintf("TimeZone %q is not supported: timestamps are sent in UTC", value))
		}
		value = "UTC"
	case "transaction_isolation", "default_transaction_isolation":
		// Accepted: every statement reads one consistent snapshot.
	}
	c.params[name] = value
	out := &outcome{tag: "SET"}
	for _, p := range reportedParams {
		if strings.EqualFold(p, name) {
			out.status = append(out.status, &pgproto3.ParameterStatus{Name: p, Value: value})
		}
	}
	return out, nil
}

// setSearchPath makes the first existing namespace of a search_path list
// the session's current namespace ("public" means "default").
func (c *conn) setSearchPath(list string) {
	for _, p := range strings.Split(list, ",") {
		ns := strings.Trim(strings.TrimSpace(p), `"'`)
		if ns == "public" {
			ns = "default"
		}
		if _, ok := c.srv.eng.Catalog().Namespace(ns); ok {
			c.sess.Namespace = ns
			return
		}
	}
}

// execShow answers SHOW of a session parameter; ok=false passes the
// statement (SHOW TABLES, SHOW NAMESPACES, ...) to the engine.
func (c *conn) execShow(cl classified) (*outcome, bool) {
	if len(cl.toks) < 3 {
		return nil, false
	}
	name := strings.ToLower(cl.toks[1].Value)
	if name == "transaction" && len(cl.words) >= 4 {
		name = "transaction_isolation"
	}
	if name == "all" {
		out := &outcome{fields: []field{{"name", colType{oid: oidText, size: -1, mod: -1}}, {"setting", colType{oid: oidText, size: -1, mod: -1}}, {"description", colType{oid: oidText, size: -1, mod: -1}}}}
		names := map[string]bool{"server_version": true, "server_version_num": true, "is_superuser": true}
		for k := range defaultParams {
			names[k] = true
		}
		for k := range c.params {
			names[k] = true
		}
		sorted := make([]string, 0, len(names))
		for k := range names {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			out.rows = append(out.rows, []any{k, c.paramValue(k), ""})
		}
		out.tag = "SHOW"
		return out, true
	}
	_, known := defaultParams[name]
	_, set := c.params[name]
	if !known && !set && name != "server_version" && name != "server_version_num" && name != "is_superuser" && name != "session_authorization" {
		return nil, false
	}
	return &outcome{fields: []field{{name, colType{oid: oidText, size: -1, mod: -1}}}, rows: [][]any{{c.paramValue(name)}}, tag: "SHOW"}, true
}

func (c *conn) execReset(cl classified) (*outcome, error) {
	if len(cl.toks) < 3 {
		return nil, pgErr(sqlstateSyntax, "syntax error at end of input")
	}
	name := strings.ToLower(cl.toks[1].Value)
	if name == "all" {
		c.params = map[string]string{}
		c.sess.Namespace = "default"
	} else {
		delete(c.params, name)
		if name == "search_path" {
			c.sess.Namespace = "default"
		}
	}
	return &outcome{tag: "RESET"}, nil
}

func (c *conn) execDeallocate(cl classified) (*outcome, error) {
	i := 1
	if i < len(cl.toks) && cl.toks[i].Value == "prepare" {
		i++
	}
	if i >= len(cl.toks)-1 {
		return nil, pgErr(sqlstateSyntax, "syntax error at end of input")
	}
	name := cl.toks[i].Value
	if cl.toks[i].Kind == parse.TokIdent && name == "all" {
		c.stmts = map[string]*prepared{}
		return &outcome{tag: "DEALLOCATE ALL"}, nil
	}
	if _, ok := c.stmts[name]; !ok {
		return nil, pgErr(sqlstateUndefinedPrepStmt, fmt.Sprintf("prepared statement %q does not exist", name))
	}
	delete(c.stmts, name)
	return &outcome{tag: "DEALLOCATE"}, nil
}

func (c *conn) execUse(cl classified) (*outcome, error) {
	if len(cl.toks) < 3 {
		return nil, pgErr(sqlstateSyntax, "syntax error at end of input")
	}
	name := cl.toks[1].Value
	if _, ok := c.srv.eng.Catalog().Namespace(name); !ok {
		return nil, pgErr("3F000", fmt.Sprintf("namespace '%s' not found", name))
	}
	c.sess.Namespace = name
	return &outcome{tag: "SET"}, nil
}

// sessionFuncs are the session functions drivers call at connect time;
// they are replaced by literals before the statement reaches the engine.
func (c *conn) sessionFunc(name string) (string, bool) {
	switch name {
	case "version":
		return "PostgreSQL " + c.paramValue("server_version") + " on x86_64-pc-linux-gnu, compiled by Go, 64-bit", true
	case "current_schema":
		return c.sess.Namespace, true
	case "current_database":
		return "kalamdb", true
	case "session_user", "current_role":
		return c.sess.UserID, true
	case "pg_backend_pid":
		return strconv.FormatUint(uint64(c.pid), 10), true
	case "inet_server_addr", "inet_client_addr":
		return c.ip, true
	}
	return "", false
}

// rewriteSessionSQL substitutes session functions (version(),
// current_schema, current_setting('x'), ...) with literals. Statements
// that mention none are returned unchanged.
func (c *conn) rewriteSessionSQL(text string) string {
	if !needsSessionRewrite(text) {
		return text
	}
	toks, err := parse.Lex(text)
	if err != nil {
		return text
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind != parse.TokIdent {
			continue
		}
		start := t.Pos
		if i >= 2 && toks[i-1].Text == "." && toks[i-2].Kind == parse.TokIdent && toks[i-2].Value == "pg_catalog" {
			start = toks[i-2].Pos
		}
		if i > 0 && toks[i-1].Text == "." && start == t.Pos {
			continue // a column such as t.version
		}
		end := t.End
		var lit string
		ok := false
		hasParens := i+2 < len(toks) && toks[i+1].Text == "(" && toks[i+2].Text == ")"
		if t.Value == "current_setting" && i+3 < len(toks) && toks[i+1].Text == "(" && toks[i+2].Kind == parse.TokString && toks[i+3].Text == ")" {
			lit, ok, end = c.paramValue(toks[i+2].Value), true, toks[i+3].End
			i += 3
		} else if v, found := c.sessionFunc(t.Value); found {
			bare := t.Value == "current_schema" || t.Value == "session_user" || t.Value == "current_role"
			if hasParens {
				lit, ok, end = v, true, toks[i+2].End
				i += 2
			} else if bare {
				lit, ok = v, true
			}
		}
		if !ok {
			continue
		}
		b.WriteString(text[last:start])
		b.WriteString(" '" + strings.ReplaceAll(lit, "'", "''") + "' ")
		last = end
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// normalizeLiteralCasts rewrites the typed literals client-side
// interpolating drivers (psycopg2, pg8000) send that the SQL engine does
// not read as PostgreSQL does: '\x..'::bytea becomes a blob literal and
// '..'::time drops the cast (the column type converts the text).
// needsSessionRewrite reports whether text may name a session function
// rewriteSessionSQL replaces; when not, its rewrite is text itself in
// every session, so a prepared statement can be parsed once.
func needsSessionRewrite(text string) bool {
	l := strings.ToLower(text)
	return strings.Contains(l, "version") || strings.Contains(l, "current_") || strings.Contains(l, "session_user") ||
		strings.Contains(l, "pg_backend_pid") || strings.Contains(l, "inet_")
}

func normalizeLiteralCasts(text string) string {
	if !strings.Contains(text, "::") {
		return text
	}
	toks, err := parse.Lex(text)
	if err != nil {
		return text
	}
	var b strings.Builder
	last := 0
	for i := 0; i+2 < len(toks); i++ {
		lit, op, typ := toks[i], toks[i+1], toks[i+2]
		if lit.Kind != parse.TokString || op.Text != "::" || typ.Kind != parse.TokIdent {
			continue
		}
		end := typ.End
		var repl string
		switch typ.Value {
		case "bytea":
			h, ok := strings.CutPrefix(lit.Value, `\x`)
			if !ok || !isHex(h) {
				continue
			}
			repl = "X'" + h + "'"
		case "time":
			if i+5 < len(toks) && toks[i+3].Kind == parse.TokIdent && toks[i+3].Value == "without" {
				end = toks[i+5].End
			}
			repl = lit.Text
		default:
			continue
		}
		b.WriteString(text[last:lit.Pos])
		b.WriteString(repl)
		last = end
		i += 2
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
