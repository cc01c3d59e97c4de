package parse

import (
	"strconv"
	"strings"
)

// This file holds the expression half of the rewriter: casts, ILIKE,
// KalamDB functions and typed literals.

// castTypes maps PostgreSQL type names to SQLite cast types.
var castTypes = map[string]string{
	"int": "INTEGER", "integer": "INTEGER", "bigint": "INTEGER", "smallint": "INTEGER",
	"tinyint": "INTEGER", "mediumint": "INTEGER", "int2": "INTEGER", "int4": "INTEGER", "int8": "INTEGER",
	"boolean": "INTEGER", "bool": "INTEGER",
	"text": "TEXT", "varchar": "TEXT", "char": "TEXT", "character": "TEXT",
	"character varying": "TEXT", "string": "TEXT", "json": "TEXT", "jsonb": "TEXT",
	"uuid": "TEXT", "nvarchar": "TEXT", "clob": "TEXT",
	"float": "REAL", "double": "REAL", "double precision": "REAL", "real": "REAL",
	"float4": "REAL", "float8": "REAL", "numeric": "REAL", "decimal": "REAL",
	"bytea": "BLOB", "bytes": "BLOB", "blob": "BLOB", "binary": "BLOB", "varbinary": "BLOB",
	"timestamp": "INTEGER", "timestamptz": "INTEGER", "datetime": "INTEGER",
	"timestamp with time zone": "INTEGER", "timestamp without time zone": "INTEGER",
	"date": "INTEGER",
}

// temporalKind tells how a string literal converts for a cast type:
// "timestamp" (microseconds) or "date" (days); "" for other types.
func temporalKind(typ string) string {
	switch typ {
	case "date":
		return "date"
	case "timestamp", "timestamptz", "datetime", "timestamp with time zone", "timestamp without time zone":
		return "timestamp"
	}
	return ""
}

// castType parses a type name at w.i (after "::" or CAST ... AS) and
// returns its SQLite type and temporal kind.
func (w *rewriter) castType(after string) (sqlType, temporal string, err error) {
	t := w.toks[w.i]
	if t.Kind != TokIdent {
		return "", "", errSQL(t.Pos, "expected type name after %s, found %s", after, describe(t))
	}
	w.i++
	name := t.Value
	multi := func(words ...string) bool {
		for k, word := range words {
			if !isKw(w.at(w.i+k), word) {
				return false
			}
		}
		w.i += len(words)
		name += " " + strings.Join(words, " ")
		return true
	}
	switch name {
	case "double":
		multi("precision")
	case "character":
		multi("varying")
	}
	if isOp(w.at(w.i), "(") {
		// Length/precision parameters do not exist in SQLite casts.
		j := w.i + 1
		for w.at(j).Kind == TokNumber || isOp(w.at(j), ",") {
			j++
		}
		if !isOp(w.at(j), ")") {
			return "", "", errSQL(w.at(j).Pos, "expected type parameters of %s, found %s", strings.ToUpper(name), describe(w.at(j)))
		}
		w.i = j + 1
	}
	if name == "timestamp" {
		if !multi("with", "time", "zone") {
			multi("without", "time", "zone")
		}
	}
	if isOp(w.at(w.i), "[") {
		return "", "", errSQL(w.at(w.i).Pos, "array types are not supported")
	}
	typ, ok := castTypes[name]
	if !ok {
		return "", "", errSQL(t.Pos, "unsupported type %s in cast", printable(strings.ToUpper(name)))
	}
	return typ, temporalKind(name), nil
}

// castOp rewrites "expr::type" to CAST(expr AS type), where expr is the
// primary expression just emitted. A string literal cast to a timestamp or
// date becomes the converted integer, as a typed literal would.
func (w *rewriter) castOp(t Token) error {
	start := w.primStart
	if w.primEnd != len(w.out) || start < 0 || start >= len(w.out) {
		return errSQL(t.Pos, `"::" must follow an expression`)
	}
	if start == w.castStart {
		if w.castChain++; w.castChain > maxCastChain {
			return errSQL(t.Pos, "more than %d chained casts", maxCastChain)
		}
	} else {
		w.castStart, w.castChain = start, 1
	}
	lit := w.primLit
	w.i++
	typ, temporal, err := w.castType(`"::"`)
	if err != nil {
		return err
	}
	if lit >= 0 && temporal != "" && len(w.out)-start == 1 {
		v, err := temporalValue(w.toks[lit], temporal)
		if err != nil {
			return err
		}
		w.replaceFrom(start, v)
	} else {
		w.replaceFrom(start, "CAST("+joinPieces(w.out[start:])+" AS "+typ+")")
	}
	w.markPrimary(start)
	return nil
}

// cast handles CAST( at w.i: a string literal cast to a temporal type is
// converted outright; otherwise a cast scope is entered and its AS type is
// mapped by castAs.
func (w *rewriter) cast(t Token) error {
	start := len(w.out)
	if s := w.at(w.i + 2); s.Kind == TokString && isKw(w.at(w.i+3), "as") {
		save := w.i
		w.i += 4
		_, temporal, err := w.castType(`"AS"`)
		if err == nil && temporal != "" && isOp(w.at(w.i), ")") {
			v, err := temporalValue(s, temporal)
			if err != nil {
				return err
			}
			w.emit(v, w.gap(save))
			w.i++
			w.markPrimary(start)
			return nil
		}
		w.i = save
	}
	w.emitTok() // CAST
	open := w.toks[w.i]
	w.emitTok() // (
	w.push(scope{kind: scopeCast, open: start, openPos: open.Pos, operandStart: len(w.out)})
	return nil
}

// castAs handles the AS of CAST(expr AS type).
func (w *rewriter) castAs() error {
	w.emitTok()
	typ, _, err := w.castType(`"AS"`)
	if err != nil {
		return err
	}
	w.emit(typ, true)
	if t := w.toks[w.i]; !isOp(t, ")") {
		return errSQL(t.Pos, `expected ")" after the CAST type, found %s`, describe(t))
	}
	return nil
}

// extract rewrites EXTRACT(field FROM expr) to kalam_extract('field', expr).
func (w *rewriter) extract(t Token) error {
	field, from := w.at(w.i+2), w.at(w.i+3)
	name := asciiLower(field.Value)
	if (field.Kind != TokIdent && field.Kind != TokString) || !isKw(from, "from") || !isFieldName(name) {
		return errSQL(t.Pos, "malformed EXTRACT: expected EXTRACT(field FROM expression)")
	}
	start := len(w.out)
	w.emit("kalam_extract", w.gap(w.i))
	w.emit("(", false)
	w.push(scope{kind: scopeFunc, open: start, openPos: w.at(w.i + 1).Pos, operandStart: len(w.out)})
	w.emit(sqlString(name), false)
	w.emit(",", false)
	w.i += 4
	w.boundary()
	return nil
}

func isFieldName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && s[i] != '_' {
			return false
		}
	}
	return true
}

// kalamFuncs maps KalamDB functions to the UDFs the executor registers.
var kalamFuncs = map[string]string{
	"now":          "kalam_now",
	"snowflake_id": "kalam_snowflake_id",
	"uuid_v7":      "kalam_uuid_v7",
	"ulid":         "kalam_ulid",
}

// function rewrites session values and KalamDB functions. done is false
// when the word is used as a plain name (e.g. a column called "ulid").
func (w *rewriter) function(t Token) (done bool, err error) {
	next := w.at(w.i + 1)
	emptyCall := isOp(next, "(") && isOp(w.at(w.i+2), ")")
	start := len(w.out)
	switch t.Value {
	case "current_user", "current_role":
		v := w.opt.CurrentUser
		if t.Value == "current_role" {
			v = w.opt.CurrentRole
		}
		w.emit(sqlString(v), w.gap(w.i))
	case "current_timestamp":
		w.emit("kalam_now()", w.gap(w.i))
	default:
		if !isOp(next, "(") {
			return false, nil
		}
		// Only the name changes; the argument list is rewritten as usual.
		w.emit(kalamFuncs[t.Value], w.gap(w.i))
		w.i++
		w.markPrimary(start)
		return true, nil
	}
	w.i++
	if emptyCall {
		w.i += 2
	}
	w.markPrimary(start)
	return true, nil
}

// temporalLiteral rewrites TIMESTAMP '...' / DATE '...' to an integer.
func (w *rewriter) temporalLiteral(t, lit Token) error {
	kind := "timestamp"
	if t.Value == "date" {
		kind = "date"
	}
	v, err := w.typedLiteralFor(lit, kind)
	if err != nil {
		return err
	}
	start := len(w.out)
	w.emit(v, w.gap(w.i))
	w.i += 2
	w.markPrimary(start)
	return nil
}

// temporalValue converts a string literal token to microseconds or days.
// Negative values are parenthesised so that "1-" before them can never
// form a "--" comment.
func temporalValue(lit Token, kind string) (string, error) {
	var v int64
	var err error
	if kind == "date" {
		v, err = ParseDateDays(lit.Value)
	} else {
		v, err = ParseTimestampMicros(lit.Value)
	}
	if err != nil {
		return "", withPos(err, lit.Pos)
	}
	s := strconv.FormatInt(v, 10)
	if v < 0 {
		s = "(" + s + ")"
	}
	return s, nil
}

// ilike rewrites "a [NOT] ILIKE b" to "lower(a) [NOT] LIKE lower(b)". a is
// the operand since the last boundary at this level (so "x || y ILIKE z"
// lowers the whole concatenation, matching PostgreSQL's precedence); the
// closing ")" of lower(b) is added at the next boundary by closeILike.
func (w *rewriter) ilike(t Token, not bool) error {
	sc := w.top()
	start := sc.operandStart
	if start >= len(w.out) {
		return errSQL(t.Pos, "ILIKE needs a left operand")
	}
	w.replaceFrom(start, "lower("+joinPieces(w.out[start:])+")")
	if not {
		w.emit("NOT LIKE", true)
		w.i += 2
	} else {
		w.emit("LIKE", true)
		w.i++
	}
	w.emit("lower(", true)
	w.noSpace = true
	sc.ilikeOpen = true
	sc.ilikeStart = len(w.out)
	sc.operandStart = len(w.out)
	w.primEnd = -1
	return nil
}

// closeILike closes a pending ILIKE right operand of sc before the
// boundary token t.
func (w *rewriter) closeILike(sc *scope, t Token) error {
	if !sc.ilikeOpen {
		return nil
	}
	if len(w.out) <= sc.ilikeStart {
		return errSQL(t.Pos, "ILIKE needs a right operand")
	}
	w.noSpace = false
	w.out = append(w.out, piece{text: ")"})
	sc.ilikeOpen = false
	sc.operandStart = len(w.out)
	w.primEnd = -1
	return nil
}
