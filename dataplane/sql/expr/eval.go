package expr

import (
	"math"
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// Truth is a condition's value on one row.
type Truth uint8

// Truth values. The order matters: AND keeps the largest non-False value
// of its operands, OR the largest non-True one.
const (
	False Truth = iota
	True
	// Unknown is SQL's NULL truth value: a WHERE clause does not match.
	Unknown
	// Undecided means the Go evaluator cannot tell: SQLite must.
	Undecided
)

// Eval evaluates n on a row. vals holds the row's values by table
// position, as the SQL engine hands them to SQLite; only the positions
// Columns(n) lists are read.
func Eval(n *Node, vals []any) Truth {
	switch n.Kind {
	case And, Or:
		// AND stops at a False operand, OR at a True one; otherwise the
		// largest of the others wins (Unknown over True/False, Undecided
		// over all).
		stop, r := False, True
		if n.Kind == Or {
			stop, r = True, False
		}
		for _, k := range n.Kids {
			switch x := Eval(k, vals); {
			case x == stop:
				return stop
			case x == Undecided && k.opaque:
				// SQLite evaluates left to right and would run the
				// untyped part (which may raise an error) before any
				// later operand could settle the answer.
				return Undecided
			default:
				r = max(r, x)
			}
		}
		return r
	case Not:
		return not(Eval(n.Kids[0], vals))
	case Const:
		return boolTruth(n.Vals[0])
	case BoolCol:
		return boolTruth(vals[n.Col])
	case IsNull:
		return truth((vals[n.Col] == nil) != n.Neg)
	case Cmp:
		return compareTruth(vals[n.Col], n.Op, n.Vals[0])
	case Distinct:
		v, w := vals[n.Col], n.Vals[0]
		if v == nil || w == nil {
			return truth((v == nil) != (w == nil) != n.Neg)
		}
		c, ok := compare(v, w)
		if !ok {
			return Undecided
		}
		return truth((c != 0) != n.Neg)
	case Between:
		v := vals[n.Col]
		r := between(v, n.Vals[0], n.Vals[1])
		if n.Symmetric {
			r = or(r, between(v, n.Vals[1], n.Vals[0]))
		}
		if n.Neg {
			r = not(r)
		}
		return r
	case In:
		v := vals[n.Col]
		r := False
		for _, w := range n.Vals {
			x := compareTruth(v, Eq, w)
			if x == True {
				r = True
				break
			}
			r = max(r, x)
		}
		if n.Neg {
			r = not(r)
		}
		return r
	case Like:
		v := vals[n.Col]
		if v == nil {
			return Unknown
		}
		s, ok := v.(string)
		if !ok {
			return Undecided
		}
		m, err := pgfn.Like(s, n.Vals[0].(string), n.Escape, n.Fold)
		if err != nil {
			return Undecided
		}
		return truth(m != n.Neg)
	}
	return Undecided
}

// Match reports whether n holds on the row (a WHERE clause's answer) and
// whether the Go evaluator could decide it.
func Match(n *Node, vals []any) (match, decided bool) {
	t := Eval(n, vals)
	return t == True, t != Undecided
}

func truth(b bool) Truth {
	if b {
		return True
	}
	return False
}

func not(t Truth) Truth {
	switch t {
	case True:
		return False
	case False:
		return True
	}
	return t
}

func or(a, b Truth) Truth {
	if a == True || b == True {
		return True
	}
	return max(a, b)
}

func and(a, b Truth) Truth {
	if a == False || b == False {
		return False
	}
	return max(a, b)
}

func boolTruth(v any) Truth {
	switch x := v.(type) {
	case nil:
		return Unknown
	case int64:
		return truth(x != 0)
	}
	return Undecided
}

func between(v, lo, hi any) Truth {
	return and(compareTruth(v, Ge, lo), compareTruth(v, Le, hi))
}

// CompareTruth is `v op w` with NULLs unknown, Undecided for values the
// typed classes do not compare (see Compare).
func CompareTruth(v any, op Op, w any) Truth { return compareTruth(v, op, w) }

func compareTruth(v any, op Op, w any) Truth {
	if v == nil || w == nil {
		return Unknown
	}
	c, ok := compare(v, w)
	if !ok {
		return Undecided
	}
	return truth(op.Holds(c))
}

// Compare orders two non-NULL values as both SQLite and PostgreSQL do for
// the typed classes: numbers by value (an integer and a double exactly,
// without rounding the integer), text bytewise. ok is false for other
// pairs (mixed classes, NaN): the caller must not decide.
func Compare(v, w any) (c int, ok bool) { return compare(v, w) }

func compare(v, w any) (int, bool) {
	switch x := v.(type) {
	case int64:
		switch y := w.(type) {
		case int64:
			return cmpInt(x, y), true
		case float64:
			return cmpIntFloat(x, y)
		}
	case float64:
		switch y := w.(type) {
		case int64:
			c, ok := cmpIntFloat(y, x)
			return -c, ok
		case float64:
			if x != x || y != y {
				return 0, false
			}
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	case string:
		if y, ok := w.(string); ok {
			return strings.Compare(x, y), true
		}
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares an integer with a double exactly.
func cmpIntFloat(i int64, f float64) (int, bool) {
	switch {
	case f != f:
		return 0, false
	case f >= 9223372036854775808.0:
		return -1, true
	case f < -9223372036854775808.0:
		return 1, true
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c, true
	}
	switch {
	case f > t:
		return -1, true
	case f < t:
		return 1, true
	}
	return 0, true
}
