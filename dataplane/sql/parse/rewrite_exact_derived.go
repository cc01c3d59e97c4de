package parse

import "strings"

// Exact twins of aggregates over a derived table's literal column.
//
// A column of a derived table or CTE whose every value is a numeric
// literal ((SELECT 0.1 AS x UNION ALL SELECT 0.25 AS x) s) is a numeric
// to PostgreSQL; SQLite carries its values as doubles. The shortest form
// of such a double is the literal's value (for up to ExactDoubleDigits
// significant digits), and sum, avg and the variance family depend on
// their inputs' display scales only through the largest one: so
// kalam_x_<agg>(kalam_x_col(x, S)), S the largest scale among the
// literals, is PostgreSQL's answer. min and max keep each value's own
// scale and get no such twin.
//
// Invariants:
//   - The column is recognised only when certain: the name is defined by
//     "AS name" in exactly one query of the statement (every branch of its
//     UNION [ALL] at the same select-list position), that query is a
//     derived table or CTE body, no other alias, column list or table of
//     the statement has that name, and every branch's item at that
//     position is a numeric literal (or NULL), at least one with a
//     fraction or an exponent. Anything else keeps the integers-only twin.

// derivedAggs are the aggregates whose exact result depends on the
// inputs' scales only through the largest.
var derivedAggs = toSet("sum", "avg", "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop")

// derivedLiteralTwin is the twin argument of aggregate agg over a
// reference to a derived table's literal numeric column (toks: name or
// qual.name), or nil.
func (p *pgPass) derivedLiteralTwin(agg string, toks []Token) []Token {
	if _, ok := derivedAggs[agg]; !ok || p.typer == nil {
		return nil
	}
	if len(toks) != 1 && !(len(toks) == 3 && isOp(toks[1], ".")) {
		return nil
	}
	last := toks[len(toks)-1]
	if !isNameTok(last) {
		return nil
	}
	scale, ok := p.derivedLiteralScale(asciiLower(last.Value))
	if !ok {
		return nil
	}
	return call("kalam_x_col", last, toks, numTok(scale, last))
}

// derivedLiteralScale finds the one derived query defining column name
// and returns the largest scale of its literal values.
func (p *pgPass) derivedLiteralScale(name string) (int, bool) {
	for _, vt := range p.typer.vtabs {
		if typ, known := p.typer.r.ColumnPGType(vt, name); !known || typ != "" {
			return 0, false
		}
	}
	query, pos := -1, -1
	for k, t := range p.in {
		if !isNameTok(t) || asciiLower(t.Value) != name || k == 0 {
			continue
		}
		prev := p.in[k-1]
		switch {
		case isKw(prev, "as"):
		case isOp(prev, "."), isOp(prev, "(") && !inColumnList(p.in, k), isOp(prev, ",") && !inColumnList(p.in, k):
			continue // a reference
		case endsExpr(prev) || inColumnList(p.in, k):
			return 0, false // an implicit alias or a column list
		default:
			continue
		}
		if isOp(p.at(k+1, len(p.in)), "(") {
			return 0, false // a CTE's name
		}
		o, at := p.itemOf(k)
		if o < 0 || (query >= 0 && (o != query || at != pos)) {
			return 0, false
		}
		if query < 0 && !p.derivedQuery(o) {
			return 0, false
		}
		query, pos = o, at
	}
	if query < 0 {
		return 0, false
	}
	return p.literalColumnScale(query, pos)
}

// itemOf returns the "(" enclosing the select-list item that token k
// ends, and the item's position in its branch's select list.
func (p *pgPass) itemOf(k int) (open, pos int) {
	for j := k - 1; j >= 0; j-- {
		t := p.in[j]
		switch {
		case (isOp(t, ")") || isKw(t, "end")) && p.open[j] >= 0:
			j = p.open[j]
		case isOp(t, "("), isKw(t, "case"):
			return -1, -1
		case isOp(t, ","):
			pos++
		case isKw(t, "select"):
			if j == 0 || !isOp(p.in[j-1], "(") && !isKw(p.in[j-1], "all") && !isKw(p.in[j-1], "union") {
				return -1, -1
			}
			// Walk back over earlier UNION [ALL] branches to the "(".
			for b := j - 1; b >= 0; b-- {
				u := p.in[b]
				if isOp(u, "(") {
					return b, pos
				}
				if (isOp(u, ")") || isKw(u, "end")) && p.open[b] >= 0 {
					b = p.open[b]
					continue
				}
				if isKw(u, "intersect") || isKw(u, "except") {
					return -1, -1
				}
			}
			return -1, -1
		case t.Kind == TokIdent && isSelectListEnd(t):
			return -1, -1
		}
	}
	return -1, -1
}

// derivedQuery reports whether the "(" at o opens a derived table or a
// CTE body: after FROM, JOIN, a FROM-list comma or "name AS".
func (p *pgPass) derivedQuery(o int) bool {
	if o == 0 || p.match[o] < 0 {
		return false
	}
	prev := p.in[o-1]
	switch {
	case isKw(prev, "from"), isKw(prev, "join"):
		return true
	case isOp(prev, ","):
		return p.inFromList(o - 1)
	case isKw(prev, "as"):
		return o >= 2 && isNameTok(p.in[o-2])
	}
	return false
}

// literalColumnScale checks that item pos of every UNION [ALL] branch of
// the query opened at o is a numeric literal or NULL and returns their
// largest scale; ok is false unless one has a fraction or an exponent.
func (p *pgPass) literalColumnScale(o, pos int) (int, bool) {
	end := p.match[o]
	scale, frac := 0, false
	branch := o + 1
	for branch < end {
		if !isKw(p.in[branch], "select") {
			return 0, false
		}
		item, k, lo := 0, branch+1, branch+1
		next := -1
		for ; k <= end; k++ {
			t := p.at(k, end)
			if (isOp(t, "(") || isKw(t, "case")) && p.match[k] > k && p.match[k] < end {
				k = p.match[k]
				continue
			}
			if k == end || isOp(t, ",") || isSelectListEnd(t) {
				if item == pos {
					s, f, ok := p.literalScale(lo, k)
					if !ok {
						return 0, false
					}
					scale, frac = max(scale, s), frac || f
				}
				if !isOp(t, ",") {
					break
				}
				item++
				lo = k + 1
			}
		}
		if item < pos {
			return 0, false
		}
		// The next UNION [ALL] branch, if any.
		for ; k < end; k++ {
			t := p.in[k]
			if isOp(t, "(") && p.match[k] > k && p.match[k] < end {
				k = p.match[k]
				continue
			}
			if isKw(t, "intersect") || isKw(t, "except") {
				return 0, false
			}
			if isKw(t, "union") {
				next = k + 1
				if isKw(p.at(next, end), "all") {
					next++
				}
				break
			}
		}
		if next < 0 {
			break
		}
		branch = next
	}
	return scale, frac
}

// literalScale reads the select-list item in[lo:hi] (with an optional
// alias) as [-]number or NULL: its scale and whether it is a fraction.
func (p *pgPass) literalScale(lo, hi int) (int, bool, bool) {
	lo, hi = p.itemExpr(lo, hi)
	if lo < 0 {
		return 0, false, false
	}
	if hi-lo == 1 && isKw(p.in[lo], "null") {
		return 0, false, true
	}
	if hi-lo == 2 && isOp(p.in[lo], "-") {
		lo++
	}
	if hi-lo != 1 || p.in[lo].Kind != TokNumber {
		return 0, false, false
	}
	text := strings.ToLower(p.in[lo].Text)
	if strings.HasPrefix(text, "0x") {
		return 0, false, false
	}
	mant, exp := text, 0
	if e := strings.IndexByte(text, 'e'); e >= 0 {
		mant = text[:e]
		n := 0
		sign := 1
		s := text[e+1:]
		if s != "" && (s[0] == '-' || s[0] == '+') {
			if s[0] == '-' {
				sign = -1
			}
			s = s[1:]
		}
		for _, c := range s {
			if c < '0' || c > '9' || n > 1000 {
				return 0, false, false
			}
			n = n*10 + int(c-'0')
		}
		exp = sign * n
	}
	frac := 0
	if dot := strings.IndexByte(mant, '.'); dot >= 0 {
		frac = len(mant) - dot - 1
	}
	digits := strings.TrimLeft(strings.ReplaceAll(mant, ".", ""), "0")
	if len(digits) > ExactDoubleDigits {
		return 0, false, false
	}
	return max(frac-exp, 0), frac > 0 || exp != 0, true
}
