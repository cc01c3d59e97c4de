package parse

// Exact twins of the math functions on numerics.
//
// PostgreSQL resolves sqrt, ln, log, log10, exp and power(pow) to their
// numeric versions when an argument is a numeric (sqrt(2.25), log(2, 8),
// power(9, 0.5)); with only integer or float8 arguments the float8 version
// wins (sqrt(2), power(2, 10)), except for the two-argument log, which
// only exists for numerics. The numeric versions' results carry the scale
// numeric.c chooses (pgfn/exact_math.go): their twins are kalam_x_sqrt,
// kalam_x_ln, kalam_x_log, kalam_x_exp and kalam_x_power.
//
// Invariants:
//   - A twin exists only when every argument has one (an integer or a
//     numeric with a twin); a float8 or untyped argument leaves the call
//     as it was (float8, printed from the double).

// exactMathArity maps the math functions with numeric versions to their
// arity.
var exactMathArity = map[string]int{
	"sqrt": 1, "ln": 1, "exp": 1, "log10": 1, "log": 0, "power": 2, "pow": 2,
}

// exactMath gives name(args) (rewritten to c, "(" at j, ")" at end) its
// twin and the numeric type when PostgreSQL picks the numeric version;
// ok is false for other functions.
func (p *pgPass) exactMath(name string, j, end int, c pexpr) (pexpr, bool) {
	arity, ok := exactMathArity[name]
	if !ok {
		return c, false
	}
	at := p.in[j]
	parts := splitDepth0(p.in, j+1, end)
	if (arity != 0 && len(parts) != arity) || len(parts) > 2 || end == j+1 {
		return c, true
	}
	args := make([]pexpr, len(parts))
	anyNum := false
	for k, part := range parts {
		a, next, err := p.expr(part[0], part[1], 0)
		if err != nil || next != part[1] || a.ex == nil {
			return c, true
		}
		args[k] = a
		anyNum = anyNum || a.exNum
	}
	if !anyNum && !(name == "log" && len(args) == 2) {
		// Integers only: the float8 version.
		return c, true
	}
	var ex []Token
	switch {
	case name == "log" && len(args) == 2:
		ex = call("kalam_x_log", at, args[0].ex, args[1].ex)
	case name == "log" || name == "log10":
		ex = call("kalam_x_log", at, numTok(10, at), args[0].ex)
	case name == "pow" || name == "power":
		ex = call("kalam_x_power", at, args[0].ex, args[1].ex)
	default:
		ex = call("kalam_x_"+name, at, args[0].ex)
	}
	c.typ, c.ex, c.exNum = tNumeric, ex, true
	return c, true
}
