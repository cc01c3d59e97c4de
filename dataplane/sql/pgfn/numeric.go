package pgfn

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// This file holds exact NUMERIC arithmetic. A float64 stands for the
// decimal of its shortest representation (strconv 'g' -1), so 0.1 is
// exactly one tenth here, as it is in PostgreSQL's NUMERIC.

// numCtx computes sums, differences and products exactly (up to 1000
// digits, far beyond what a float64 result can carry) and rounds half away
// from zero like PostgreSQL's numeric.
var numCtx = apd.Context{
	Precision:   1000,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps,
	Rounding:    apd.RoundHalfUp,
}

// divCtx computes quotients: 40 significant digits round once more, to
// the float64 result, without double-rounding surprises in practice.
var divCtx = apd.Context{
	Precision:   40,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps,
	Rounding:    apd.RoundHalfUp,
}

// IntKind selects the integer type whose range integer arithmetic checks.
type IntKind uint8

// Integer kinds, narrowest first.
const (
	Int8 IntKind = iota // bigint: the default for SQLite's 64-bit integers
	Int4                // integer
	Int2                // smallint
)

func (k IntKind) name() string {
	switch k {
	case Int4:
		return "integer"
	case Int2:
		return "smallint"
	}
	return "bigint"
}

func (k IntKind) bounds() (lo, hi int64) {
	switch k {
	case Int4:
		return math.MinInt32, math.MaxInt32
	case Int2:
		return math.MinInt16, math.MaxInt16
	}
	return math.MinInt64, math.MaxInt64
}

func (k IntKind) check(v int64) (int64, error) {
	lo, hi := k.bounds()
	if v < lo || v > hi {
		return 0, errIntRange(k.name())
	}
	return v, nil
}

// DecimalOf converts a number-like value to an exact decimal: int64
// exactly, float64 by its shortest representation, a string by numeric
// input syntax. ok is false for NaN and infinities (callers fall back to
// float math) and for other types.
func DecimalOf(v any) (d *apd.Decimal, ok bool, err error) {
	switch x := v.(type) {
	case int64:
		return apd.New(x, 0), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false, nil
		}
		d, _, err := apd.NewFromString(strconv.FormatFloat(x, 'g', -1, 64))
		return d, err == nil, err
	case string:
		d, err := parseNumeric(x)
		if err != nil {
			return nil, false, err
		}
		return d, true, nil
	case bool:
		if x {
			return apd.New(1, 0), true, nil
		}
		return apd.New(0, 0), true, nil
	}
	return nil, false, nil
}

// parseNumeric reads PostgreSQL numeric input: optional blanks, sign,
// digits with one point, optional exponent.
func parseNumeric(s string) (*apd.Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsAny(t, "_ \t") || strings.EqualFold(t, "nan") || strings.Contains(strings.ToLower(t), "inf") {
		return nil, errorf(StateInvalidText, "invalid input syntax for type numeric: %q", s)
	}
	d, _, err := apd.NewFromString(t)
	if err != nil || d.Form != apd.Finite {
		return nil, errorf(StateInvalidText, "invalid input syntax for type numeric: %q", s)
	}
	return d, nil
}

// floatOfDec converts an exact decimal to the float64 SQLite carries.
func floatOfDec(d *apd.Decimal) (float64, error) {
	f, err := strconv.ParseFloat(d.String(), 64)
	if err != nil && math.IsInf(f, 0) {
		return 0, errorf(StateOutOfRange, "value out of range: overflow")
	}
	if f == 0 {
		return 0, nil // numeric has no negative zero
	}
	return f, nil
}

// asNumber normalises an operand: int64 and float64 pass, a string
// becomes an int64 when it is an integer literal and a float64 decimal
// otherwise (PostgreSQL resolves an untyped literal to the other
// operand's type), bool becomes 0/1.
func asNumber(v any) (any, error) {
	switch x := v.(type) {
	case int64, float64:
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case string:
		t := strings.TrimSpace(x)
		if i, err := strconv.ParseInt(t, 10, 64); err == nil {
			return i, nil
		}
		d, err := parseNumeric(x)
		if err != nil {
			if f, ok := parseFloatSpecial(t); ok {
				return f, nil
			}
			return nil, err
		}
		return floatOfDec(d)
	case []byte:
		return nil, errorf(StateUndefinedFunction, "operator does not exist for bytea operands")
	}
	return nil, errorf(StateInvalidText, "invalid numeric operand")
}

func parseFloatSpecial(t string) (float64, bool) {
	switch strings.ToLower(t) {
	case "nan":
		return math.NaN(), true
	case "infinity", "inf", "+infinity", "+inf":
		return math.Inf(1), true
	case "-infinity", "-inf":
		return math.Inf(-1), true
	}
	return 0, false
}

// Arith applies the binary arithmetic operator op (one of + - * / %) with
// PostgreSQL's semantics: integers stay 64-bit integers with the range of
// kind checked (22003), "/" truncates toward zero, a zero divisor is an
// error (22012), and any non-integer operand makes the operation exact
// decimal arithmetic, returned as float64.
func Arith(op byte, a, b any, kind IntKind) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	x, err := asNumber(a)
	if err != nil {
		return nil, err
	}
	y, err := asNumber(b)
	if err != nil {
		return nil, err
	}
	if i, ok := x.(int64); ok {
		if j, ok := y.(int64); ok {
			return intArith(op, i, j, kind)
		}
	}
	return decArith(op, x, y)
}

func intArith(op byte, i, j int64, kind IntKind) (any, error) {
	var r int64
	switch op {
	case '+':
		r = i + j
		if (j > 0 && r < i) || (j < 0 && r > i) {
			return nil, errIntRange(kind.name())
		}
	case '-':
		r = i - j
		if (j < 0 && r < i) || (j > 0 && r > i) {
			return nil, errIntRange(kind.name())
		}
	case '*':
		if i != 0 && j != 0 {
			hi, lo := mulOverflows(i, j)
			if hi {
				return nil, errIntRange(kind.name())
			}
			r = lo
		}
	case '/':
		if j == 0 {
			return nil, errDivZero()
		}
		if i == math.MinInt64 && j == -1 {
			return nil, errIntRange(kind.name())
		}
		r = i / j
	case '%':
		if j == 0 {
			return nil, errDivZero()
		}
		if j == -1 {
			return int64(0), nil
		}
		r = i % j
	default:
		return nil, errorf(StateUndefinedFunction, "operator %c does not exist", op)
	}
	return kind.check(r)
}

// mulOverflows multiplies with an overflow check.
func mulOverflows(i, j int64) (overflow bool, r int64) {
	r = i * j
	if (i == -1 && j == math.MinInt64) || (j == -1 && i == math.MinInt64) || r/j != i {
		return true, 0
	}
	return false, r
}

func decArith(op byte, x, y any) (any, error) {
	dx, okx, err := DecimalOf(x)
	if err != nil {
		return nil, err
	}
	dy, oky, err := DecimalOf(y)
	if err != nil {
		return nil, err
	}
	if !okx || !oky {
		return floatArith(op, toFloat(x), toFloat(y))
	}
	r, err := decimalArith(op, dx, dy, scaleCarried)
	if err != nil {
		return nil, err
	}
	return floatOfDec(r)
}

// decRule is the scale and overflow rule of one family of decimal
// arithmetic: the results SQLite carries as doubles (Arith) or the exact
// twins printed with PostgreSQL's display scale (ExactArith).
type decRule int

const (
	// scaleCarried divides to divCtx's 40 significant digits (the
	// result becomes a double) and reports an apd failure as 22003.
	scaleCarried decRule = iota
	// scaleDisplay divides to numeric.c's select_div_scale, rounded half
	// away from zero, and returns failures as they are.
	scaleDisplay
)

// noOperator is the error for an operator that is not + - * / %.
func (rule decRule) noOperator(op string) error {
	if rule == scaleDisplay {
		return errorf(StateUndefinedFunction, "operator does not exist: numeric %s numeric", op)
	}
	return errorf(StateUndefinedFunction, "operator %s does not exist", op)
}

// decimalArith is a op b (op one of + - * / %) on exact decimals: sums,
// differences, products and remainders are exact, a zero divisor is
// 22012, and the quotient's scale follows rule.
func decimalArith(op byte, a, b *apd.Decimal, rule decRule) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	var err error
	switch op {
	case '+':
		_, err = numCtx.Add(r, a, b)
	case '-':
		_, err = numCtx.Sub(r, a, b)
	case '*':
		_, err = numCtx.Mul(r, a, b)
	case '/', '%':
		switch {
		case b.IsZero():
			return nil, errDivZero()
		case op == '%':
			_, err = numCtx.Rem(r, a, b)
		case rule == scaleDisplay:
			r, err = exactDiv(a, b, selectDivScale(a, b))
		default:
			_, err = divCtx.Quo(r, a, b)
		}
	default:
		return nil, rule.noOperator(string(op))
	}
	if err != nil {
		if rule == scaleDisplay {
			return nil, err
		}
		return nil, errorf(StateOutOfRange, "value out of range: %v", err)
	}
	return r, nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// floatArith is double precision arithmetic for NaN and infinities.
func floatArith(op byte, x, y float64) (any, error) {
	switch op {
	case '+':
		return x + y, nil
	case '-':
		return x - y, nil
	case '*':
		return x * y, nil
	case '/':
		if y == 0 {
			return nil, errDivZero()
		}
		return x / y, nil
	case '%':
		if y == 0 {
			return nil, errDivZero()
		}
		return math.Mod(x, y), nil
	}
	return nil, errorf(StateUndefinedFunction, "operator %c does not exist", op)
}

// Neg is unary minus with the range check of kind.
func Neg(a any, kind IntKind) (any, error) {
	return Arith('-', int64(0), a, kind)
}

// Round is round(x[, n]) for numeric: half away from zero at n decimal
// places (n may be negative). Integers stay integers.
func Round(x any, n int64) (any, error) {
	return quantize(x, n, apd.RoundHalfUp)
}

// Trunc is trunc(x[, n]): rounding toward zero at n decimal places.
func Trunc(x any, n int64) (any, error) {
	return quantize(x, n, apd.RoundDown)
}

func quantize(x any, n int64, mode apd.Rounder) (any, error) {
	if x == nil {
		return nil, nil
	}
	v, err := asNumber(x)
	if err != nil {
		return nil, err
	}
	if n > 1000 || n < -1000 {
		n = max(min(n, 1000), -1000)
	}
	d, ok, err := DecimalOf(v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return v, nil
	}
	if _, isInt := v.(int64); isInt && n >= 0 {
		return v, nil
	}
	ctx := numCtx
	ctx.Rounding = mode
	r := new(apd.Decimal)
	if d.Exponent >= int32(-n) {
		r.Set(d)
	} else if _, err := ctx.Quantize(r, d, int32(-n)); err != nil {
		return nil, errorf(StateOutOfRange, "value out of range: %v", err)
	}
	if r.IsZero() {
		// PostgreSQL's numeric has no negative zero: round(-2.675, -1) is 0.
		r.Negative = false
	}
	if n < 0 && !r.IsZero() {
		// Quantize to a positive exponent leaves digits * 10^-n.
		if _, _, err := ctx.Reduce(r, r); err != nil {
			return nil, err
		}
	}
	if _, isInt := v.(int64); isInt {
		i, err := r.Int64()
		if err != nil {
			return nil, errIntRange("bigint")
		}
		return i, nil
	}
	return floatOfDec(r)
}

// Div is div(a, b): the integer quotient truncated toward zero.
func Div(a, b any) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	q, err := Arith('/', a, b, Int8)
	if err != nil || q == nil {
		return q, err
	}
	if f, ok := q.(float64); ok {
		return Trunc(f, 0)
	}
	return q, nil
}

// Mod is mod(a, b), the same as a % b.
func Mod(a, b any) (any, error) { return Arith('%', a, b, Int8) }

// numArg converts one math-function argument to float64.
func numArg(v any) (float64, bool, error) {
	if v == nil {
		return 0, false, nil
	}
	n, err := asNumber(v)
	if err != nil {
		return 0, false, err
	}
	return toFloat(n), true, nil
}

// math1 applies a one-argument math function to a numeric argument
// (NULL gives NULL).
func math1(v any, fn func(float64) (any, error)) (any, error) {
	f, ok, err := numArg(v)
	if !ok || err != nil {
		return nil, err
	}
	return fn(f)
}

// Ln is the natural logarithm; zero and negative arguments are errors.
func Ln(v any) (any, error) {
	return math1(v, func(f float64) (any, error) {
		if err := logArg(f); err != nil {
			return nil, err
		}
		return math.Log(f), nil
	})
}

// Log10 is log(x): the base-10 logarithm.
func Log10(v any) (any, error) {
	return math1(v, func(f float64) (any, error) {
		if err := logArg(f); err != nil {
			return nil, err
		}
		r := math.Log10(f)
		if d, ok, _ := DecimalOf(v); ok && isPow10(d) {
			r = math.Round(r)
		}
		return r, nil
	})
}

// numArgs converts two math-function arguments; ok is false if either
// is NULL.
func numArgs(a, b any) (x, y float64, ok bool, err error) {
	x, okx, err := numArg(a)
	if !okx || err != nil {
		return 0, 0, false, err
	}
	y, oky, err := numArg(b)
	return x, y, oky, err
}

// LogBase is log(b, x).
func LogBase(b, x any) (any, error) {
	fb, fx, ok, err := numArgs(b, x)
	if !ok || err != nil {
		return nil, err
	}
	if err := logArg(fb); err != nil {
		return nil, err
	}
	if err := logArg(fx); err != nil {
		return nil, err
	}
	if fb == 1 {
		return nil, errDivZero()
	}
	return math.Log(fx) / math.Log(fb), nil
}

func isPow10(d *apd.Decimal) bool {
	r := new(apd.Decimal)
	if _, _, err := numCtx.Reduce(r, d); err != nil {
		return false
	}
	return r.Coeff.IsInt64() && r.Coeff.Int64() == 1 && !r.Negative
}

func logArg(f float64) error {
	if f == 0 {
		return errorf(StateInvalidLog, "cannot take logarithm of zero")
	}
	if f < 0 {
		return errorf(StateInvalidLog, "cannot take logarithm of a negative number")
	}
	return nil
}

// Sqrt is the square root; negative arguments are errors.
func Sqrt(v any) (any, error) {
	return math1(v, func(f float64) (any, error) {
		if f < 0 {
			return nil, errorf(StateInvalidPower, "cannot take square root of a negative number")
		}
		return math.Sqrt(f), nil
	})
}

// Cbrt is the cube root.
func Cbrt(v any) (any, error) {
	return math1(v, func(f float64) (any, error) {
		return glibcCbrt(f), nil
	})
}

// Exp is e raised to x.
func Exp(v any) (any, error) {
	return math1(v, func(f float64) (any, error) {
		r := math.Exp(f)
		if math.IsInf(r, 0) {
			return nil, errorf(StateOutOfRange, "value out of range: overflow")
		}
		return r, nil
	})
}

// Power is power(a, b) with PostgreSQL's domain errors.
func Power(a, b any) (any, error) {
	x, y, ok, err := numArgs(a, b)
	if !ok || err != nil {
		return nil, err
	}
	if x == 0 && y < 0 {
		return nil, errorf(StateInvalidPower, "zero raised to a negative power is undefined")
	}
	if x < 0 && y != math.Trunc(y) {
		return nil, errorf(StateInvalidPower, "a negative number raised to a non-integer power yields a complex result")
	}
	r := math.Pow(x, y)
	if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return nil, errorf(StateOutOfRange, "value out of range: overflow")
	}
	return r, nil
}

// Abs is abs(x), keeping integers integral and checking their range.
func Abs(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	n, err := asNumber(v)
	if err != nil {
		return nil, err
	}
	if i, ok := n.(int64); ok {
		if i == math.MinInt64 {
			return nil, errIntRange("bigint")
		}
		if i < 0 {
			return -i, nil
		}
		return i, nil
	}
	return math.Abs(toFloat(n)), nil
}

// Ceil and Floor keep integers; other values round to an integral float.
func Ceil(v any) (any, error) { return integral(v, math.Ceil) }

// Floor is floor(x).
func Floor(v any) (any, error) { return integral(v, math.Floor) }

func integral(v any, f func(float64) float64) (any, error) {
	if v == nil {
		return nil, nil
	}
	n, err := asNumber(v)
	if err != nil {
		return nil, err
	}
	if i, ok := n.(int64); ok {
		return i, nil
	}
	return f(toFloat(n)), nil
}

// Sign is sign(x): -1, 0 or 1 of the argument's type.
func Sign(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	n, err := asNumber(v)
	if err != nil {
		return nil, err
	}
	if i, ok := n.(int64); ok {
		switch {
		case i > 0:
			return int64(1), nil
		case i < 0:
			return int64(-1), nil
		}
		return int64(0), nil
	}
	f := toFloat(n)
	switch {
	case f > 0:
		return 1.0, nil
	case f < 0:
		return -1.0, nil
	}
	return 0.0, nil
}

// Gcd and Lcm of integers.
func Gcd(a, b any) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	x, ok1 := a.(int64)
	y, ok2 := b.(int64)
	if !ok1 || !ok2 {
		return nil, errorf(StateUndefinedFunction, "function gcd requires integer arguments")
	}
	for y != 0 {
		x, y = y, x%y
	}
	if x < 0 {
		if x == math.MinInt64 {
			return nil, errIntRange("bigint")
		}
		x = -x
	}
	return x, nil
}

// FloatArith is double precision arithmetic: IEEE results, except that a
// zero divisor is an error (22012) and an overflow of finite operands is
// 22003, as in PostgreSQL.
func FloatArith(op byte, a, b any) (any, error) {
	if a == nil || b == nil {
		return nil, nil
	}
	x, err := CastFloat(a, false)
	if err != nil {
		return nil, err
	}
	y, err := CastFloat(b, false)
	if err != nil {
		return nil, err
	}
	fx, fy := x.(float64), y.(float64)
	r, err := floatArith(op, fx, fy)
	if err != nil {
		return nil, err
	}
	if f := r.(float64); math.IsInf(f, 0) && !math.IsInf(fx, 0) && !math.IsInf(fy, 0) {
		return nil, errorf(StateOutOfRange, "value out of range: overflow")
	}
	return r, nil
}
