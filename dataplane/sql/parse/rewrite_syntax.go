package parse

import (
	"math"
	"strconv"
)

// PostgreSQL syntax SQLite lacks, rewritten to equivalents:
//
//	VALUES ... [ORDER BY/LIMIT ...]   SELECT * FROM (VALUES ...) [ORDER BY/LIMIT ...]
//	x IS [NOT] UNKNOWN               x IS [NOT] NULL (x is boolean)
//	LIMIT ALL                        LIMIT -1
//	OFFSET n [ROW|ROWS]              LIMIT -1 OFFSET n when there is no LIMIT
//	FETCH {FIRST|NEXT} [n] {ROW|ROWS} ONLY   LIMIT n (default 1), before the OFFSET
//	x = ANY|SOME (query)             x IN (query)
//	x <> ALL (query)                 x NOT IN (query)
//	x [NOT] BETWEEN SYMMETRIC a AND b   x [NOT] BETWEEN min(a, b) AND max(a, b)
//	                                 (a and b single literals, names or parameters)

// synth returns a generated token placed after prev (with a blank when
// gap is set).
func synth(prev Token, kind TokenKind, text string, gap bool) Token {
	pos := prev.End
	if gap {
		pos++
	}
	return Token{Kind: kind, Text: text, Value: asciiLower(text), Pos: pos, End: prev.End}
}

// wrapValues turns a statement-level VALUES into a SELECT over it, so
// that ORDER BY and LIMIT (SQLite refuses both on VALUES) apply.
func wrapValues(toks []Token) []Token {
	if !isKw(toks[0], "values") {
		return toks
	}
	cut := len(toks) - 1 // EOF
	depth := 0
	for i, t := range toks {
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
		case depth == 0 && t.Kind == TokIdent && (t.Value == "order" || t.Value == "limit" || t.Value == "offset" || t.Value == "fetch"):
			cut = i
		}
		if cut != len(toks)-1 {
			break
		}
	}
	head := Token{Kind: TokIdent, Text: "SELECT", Value: "select", Pos: toks[0].Pos, End: toks[0].Pos}
	out := make([]Token, 0, len(toks)+5)
	out = append(out, head, synth(head, TokOp, "*", true), synth(head, TokIdent, "FROM", true), synth(head, TokOp, "(", true))
	out = append(out, toks[:cut]...)
	out = append(out, synth(toks[cut-1], TokOp, ")", false))
	return append(out, toks[cut:]...)
}

// unknownKw rewrites UNKNOWN after IS [NOT] to NULL.
func (w *rewriter) unknownKw() bool {
	p := w.at(w.i - 1)
	if !(isKw(p, "is") || isKw(p, "not") && isKw(w.at(w.i-2), "is")) {
		return false
	}
	start := len(w.out)
	w.emit("NULL", w.gap(w.i))
	w.i++
	w.markPrimary(start)
	return true
}

// limitKw handles LIMIT at w.i: LIMIT ALL becomes LIMIT -1.
func (w *rewriter) limitKw() error {
	w.top().limitSeen = true
	w.emitTok()
	w.boundary()
	if isKw(w.toks[w.i], "all") {
		w.emit("-1", true)
		w.i++
	}
	return w.negativeCount(StateLimitNegative, "LIMIT")
}

// negativeCount refuses a negative literal count after LIMIT or OFFSET at
// w.i, as PostgreSQL does (2201W, 2201X): SQLite reads a negative LIMIT
// as "no limit" and a negative OFFSET as 0, silently answering other rows.
// Only a lone literal is checked ("LIMIT -1", not "LIMIT -1 + 2").
func (w *rewriter) negativeCount(state, clause string) error {
	if !isOp(w.at(w.i), "-") {
		return nil
	}
	num, after := w.at(w.i+1), w.at(w.i+2)
	if num.Kind != TokNumber {
		return nil
	}
	// PostgreSQL rounds the count to a bigint: -0.4 is 0, allowed.
	if v, err := strconv.ParseFloat(num.Text, 64); err != nil || math.Round(v) == 0 {
		return nil
	}
	if after.Kind == TokOp && !isOp(after, ")") && !isOp(after, ";") {
		return nil
	}
	return errState(state, w.at(w.i).Pos, "%s must not be negative", clause)
}

// offsetKw handles OFFSET at w.i: without a LIMIT before it, SQLite
// needs one ("LIMIT -1" is no limit, replaced by a later FETCH); a
// trailing ROW/ROWS is dropped.
func (w *rewriter) offsetKw() error {
	sc := w.top()
	if !sc.limitSeen {
		w.emit("LIMIT", w.gap(w.i))
		w.emit("-1", true)
		sc.limitSeen = true
		sc.limitPiece = len(w.out) - 1
		if len(w.scopes) == 1 {
			w.hasLimit = true
		}
	}
	w.emitTok()
	w.boundary()
	w.skipRows(w.i + 1)
	return w.negativeCount(StateOffsetNegative, "OFFSET")
}

// skipRows drops a ROW/ROWS keyword at token k when the token before it
// is a single number or parameter (OFFSET n ROWS).
func (w *rewriter) skipRows(k int) {
	if t := w.at(k); (isKw(t, "row") || isKw(t, "rows")) && (w.at(k-1).Kind == TokNumber || w.at(k-1).Kind == TokParam) {
		w.rowsSkip = k
	}
}

// fetchKw handles FETCH {FIRST|NEXT} [n] {ROW|ROWS} ONLY at w.i.
func (w *rewriter) fetchKw(t Token) error {
	k := w.i + 1
	if !isKw(w.at(k), "first") && !isKw(w.at(k), "next") {
		return errSQL(t.Pos, "expected FIRST or NEXT after FETCH")
	}
	k++
	n := "1"
	if c := w.at(k); c.Kind == TokNumber {
		n = c.Text
		k++
	} else if c.Kind == TokParam {
		num, err := parseParam(c, MaxRewriteParam)
		if err != nil {
			return err
		}
		if num > w.numParams {
			w.numParams = num
		}
		n = "?" + strconv.Itoa(num)
		k++
	}
	if !isKw(w.at(k), "row") && !isKw(w.at(k), "rows") {
		return errSQL(w.at(k).Pos, "expected ROW or ROWS in FETCH")
	}
	k++
	if !isKw(w.at(k), "only") {
		return errSQL(w.at(k).Pos, "FETCH ... WITH TIES is not supported; use ORDER BY ... LIMIT")
	}
	sc := w.top()
	if sc.limitSeen && sc.limitPiece > 0 {
		w.out[sc.limitPiece].text = n // OFFSET came first: "LIMIT -1 OFFSET m"
	} else if sc.limitSeen {
		return errSQL(t.Pos, "FETCH after LIMIT")
	} else {
		w.emit("LIMIT", w.gap(w.i))
		w.emit(n, true)
		sc.limitSeen = true
	}
	if len(w.scopes) == 1 {
		w.hasLimit = true
	}
	w.i = k + 1
	return nil
}

// quantified rewrites "= ANY (" to "IN (" and "<> ALL (" to "NOT IN ("
// at the comparison operator w.i; other quantified comparisons are left
// to SQLite (which refuses them).
func (w *rewriter) quantified(t Token) bool {
	q := w.at(w.i + 1)
	if !isOp(w.at(w.i+2), "(") {
		return false
	}
	switch {
	case (t.Value == "=" || t.Value == "==") && (isKw(q, "any") || isKw(q, "some")):
		w.emit("IN", w.gap(w.i))
	case (t.Value == "<>" || t.Value == "!=") && isKw(q, "all"):
		w.emit("NOT IN", w.gap(w.i))
	default:
		return false
	}
	w.i += 2
	w.boundary()
	return true
}

// symmetric rewrites "SYMMETRIC a AND b" after BETWEEN at w.i.
func (w *rewriter) symmetric(t Token) (bool, error) {
	if !isKw(w.at(w.i-1), "between") {
		return false, nil
	}
	simple := func(t Token) bool {
		return t.Kind == TokNumber || t.Kind == TokString || t.Kind == TokParam || t.Kind == TokIdent && !isKeyword(t.Value) || t.Kind == TokQuotedIdent
	}
	a, and, b := w.at(w.i+1), w.at(w.i+2), w.at(w.i+3)
	if !simple(a) || !isKw(and, "and") || !simple(b) || isOp(w.at(w.i+4), ".") || isOp(w.at(w.i+4), "(") || isOp(w.at(w.i+2), ".") {
		return false, errSQL(t.Pos, "BETWEEN SYMMETRIC is supported with single values (literals, columns, parameters) as bounds")
	}
	for _, p := range []Token{a, b} {
		if p.Kind == TokParam {
			n, err := parseParam(p, MaxRewriteParam)
			if err != nil {
				return false, err
			}
			if n > w.numParams {
				w.numParams = n
			}
		}
	}
	text := func(p Token) string {
		if p.Kind == TokParam {
			return "?" + p.Value
		}
		return p.Text
	}
	w.emit("min("+text(a)+", "+text(b)+") AND max("+text(a)+", "+text(b)+")", true)
	w.i += 4
	return true, nil
}
