package pgfn

import (
	"math"

	"github.com/cockroachdb/apd/v3"
)

// Exact twins of the NUMERIC math functions sqrt, ln, log, exp and power,
// with the result scales of PostgreSQL's numeric.c (numeric_sqrt,
// numeric_ln, log_var, numeric_exp, power_var): at least
// NUMERIC_MIN_SIG_DIGITS (16) significant digits by an estimate of the
// result's decimal weight, and no fewer digits after the point than an
// input shows. Values are computed by apd with guard digits and rounded
// half away from zero once, at that scale.
//
// Invariants:
//   - The domain errors are numeric.c's: 2201F for the square root of a
//     negative number and for the power cases, 2201E for the logarithm of
//     zero or a negative number, 22012 for log base 1, 22003 on overflow.
//   - Scale estimates use the same double-precision arithmetic as
//     numeric.c (estimate_ln_dweight), so the scale is PostgreSQL's.

// numericMaxResultScale is NUMERIC_MAX_RESULT_SCALE (NUMERIC_MAX_PRECISION * 2).
const numericMaxResultScale = 2000

// mathGuard is how many digits beyond the result's are computed before
// the one final rounding.
const mathGuard = 12

// clampScale applies the display scale bounds to rscale.
func clampScale(rscale int) int {
	return min(max(rscale, numericMinDisplayScale), numericMaxDisplayScale)
}

// adjExp is the power of ten of d's leading digit (0 for zero).
func adjExp(d *apd.Decimal) int {
	if d.IsZero() {
		return 0
	}
	return int(d.NumDigits()) + int(d.Exponent) - 1
}

// mathCtx computes a result of about 10^adj to rscale digits after the
// point, with guard digits.
func mathCtx(adj, rscale int) *apd.Context {
	prec := max(adj+1, 1) + rscale + mathGuard
	return &apd.Context{Precision: uint32(min(max(prec, 1), numericMaxResultDigits+mathGuard)), MaxExponent: apd.MaxExponent,
		MinExponent: apd.MinExponent, Traps: apd.DefaultTraps, Rounding: apd.RoundHalfEven}
}

// estimateLnDweight is numeric.c's estimate_ln_dweight: the decimal
// weight of ln(d).
func estimateLnDweight(d *apd.Decimal) int {
	if d.Sign() <= 0 {
		return 0
	}
	lo, hi := apd.New(9, -1), apd.New(11, -1)
	if d.Cmp(lo) >= 0 && d.Cmp(hi) <= 0 {
		x := new(apd.Decimal)
		_, _ = numCtx.Sub(x, d, apd.New(1, 0))
		if x.IsZero() {
			return 0
		}
		return adjExp(x)
	}
	// The first one or two base-10000 digits and their weight.
	w, _ := nbaseWeight(d)
	digits, dweight := nbaseDigits(d, w)
	lnVar := math.Log(digits) + float64(dweight)*2.302585092994046
	return int(math.Log10(math.Abs(lnVar)))
}

// nbaseDigits are estimate_ln_dweight's "digits" and "dweight" of d
// (weight w): its first base-10000 digit, or its first two when d has
// more, as an integer, and the power of ten of that integer's last place.
func nbaseDigits(d *apd.Decimal, w int) (float64, int) {
	two := new(apd.Decimal)
	// floor(|d| / 10^(4(w-1))): the first two groups.
	scaled := new(apd.Decimal).Abs(d)
	scaled.Exponent -= int32(decDigits * (w - 1))
	ctx := apd.BaseContext.WithPrecision(numericMaxResultDigits)
	_, _ = ctx.Floor(two, scaled)
	rest := new(apd.Decimal)
	_, _ = ctx.Sub(rest, scaled, two)
	first := new(apd.Decimal)
	_, _ = ctx.QuoInteger(first, two, apd.New(10000, 0))
	second := new(apd.Decimal)
	_, _ = ctx.Rem(second, two, apd.New(10000, 0))
	f, _ := first.Float64()
	if second.IsZero() && rest.IsZero() {
		return f, w * decDigits
	}
	t, _ := two.Float64()
	return t, (w - 1) * decDigits
}

// exactArgs2 reads two twin arguments; ok is false if either is NULL.
func exactArgs2(x, y any) (a, b *apd.Decimal, ok bool, err error) {
	a, oka, err := exactArg(x)
	if err != nil {
		return nil, nil, false, err
	}
	b, okb, err := exactArg(y)
	return a, b, oka && okb && err == nil, err
}

// ExactSqrtOf is sqrt(x) of a numeric.
func ExactSqrtOf(v any) (any, error) {
	d, ok, err := exactArg(v)
	if !ok || err != nil {
		return nil, err
	}
	if d.Negative && !d.IsZero() {
		return nil, errorf(StateInvalidPower, "cannot take square root of a negative number")
	}
	w, _ := nbaseWeight(d)
	sweight := (w+1)*decDigits/2 - 1
	rscale := clampScale(max(numericMinSigDigits-sweight, scaleOf(d)))
	if d.IsZero() {
		return ExactText(apd.New(0, -int32(rscale))), nil
	}
	r, err := exactSqrt(d, rscale)
	if err != nil {
		return nil, err
	}
	return ExactText(r), nil
}

// lnArg checks a logarithm's argument.
func lnArg(d *apd.Decimal) error {
	switch d.Sign() {
	case 0:
		return errorf(StateInvalidLog, "cannot take logarithm of zero")
	case -1:
		return errorf(StateInvalidLog, "cannot take logarithm of a negative number")
	}
	return nil
}

// roundTo rounds r half away from zero to rscale digits after the point.
func roundTo(r *apd.Decimal, rscale int) (any, error) {
	out, err := roundScale(r, rscale)
	if err != nil {
		return nil, err
	}
	return ExactText(out), nil
}

// ExactLn is ln(x) of a numeric.
func ExactLn(v any) (any, error) {
	d, ok, err := exactArg(v)
	if !ok || err != nil {
		return nil, err
	}
	if err := lnArg(d); err != nil {
		return nil, err
	}
	dw := estimateLnDweight(d)
	rscale := clampScale(max(numericMinSigDigits-dw, scaleOf(d)))
	r := new(apd.Decimal)
	if _, err := mathCtx(dw, rscale).Ln(r, d); err != nil {
		return nil, err
	}
	return roundTo(r, rscale)
}

// ExactLog is log(b, x) of numerics (log(x) is log(10, x)).
func ExactLog(bv, xv any) (any, error) {
	b, x, ok, err := exactArgs2(bv, xv)
	if !ok || err != nil {
		return nil, err
	}
	if err := lnArg(b); err != nil {
		return nil, err
	}
	if err := lnArg(x); err != nil {
		return nil, err
	}
	bw, xw := estimateLnDweight(b), estimateLnDweight(x)
	rscale := clampScale(max(numericMinSigDigits-(xw-bw), scaleOf(b), scaleOf(x)))
	ctx := mathCtx(max(xw-bw, 0), rscale)
	lb, lx := new(apd.Decimal), new(apd.Decimal)
	if _, err := ctx.Ln(lb, b); err != nil {
		return nil, err
	}
	if _, err := ctx.Ln(lx, x); err != nil {
		return nil, err
	}
	if lb.IsZero() {
		return nil, errorf(StateDivisionByZero, "division by zero")
	}
	r := new(apd.Decimal)
	if _, err := ctx.Quo(r, lx, lb); err != nil {
		return nil, err
	}
	return roundTo(r, rscale)
}

// ExactExp is exp(x) of a numeric.
func ExactExp(v any) (any, error) {
	d, ok, err := exactArg(v)
	if !ok || err != nil {
		return nil, err
	}
	f, _ := d.Float64()
	val := f * 0.434294481903252
	val = min(max(val, -numericMaxResultScale), numericMaxResultScale)
	rscale := clampScale(max(numericMinSigDigits-int(val), scaleOf(d)))
	return expAt(d, int(val), rscale)
}

// expAt is e^d (of decimal weight about adj) rounded to rscale.
func expAt(d *apd.Decimal, adj, rscale int) (any, error) {
	if adj >= numericMaxResultScale*3/2 {
		return nil, errorf(StateOutOfRange, "value overflows numeric format")
	}
	r := new(apd.Decimal)
	if _, err := mathCtx(max(adj, 0), rscale).Exp(r, d); err != nil {
		return nil, errorf(StateOutOfRange, "value overflows numeric format")
	}
	return roundTo(r, rscale)
}

// ExactPower is power(a, b) of numerics.
func ExactPower(av, bv any) (any, error) {
	a, b, ok, err := exactArgs2(av, bv)
	if !ok || err != nil {
		return nil, err
	}
	if a.IsZero() && b.Sign() < 0 {
		return nil, errorf(StateInvalidPower, "zero raised to a negative power is undefined")
	}
	intExp := new(apd.Decimal)
	_, _ = numCtx.RoundToIntegralValue(intExp, b)
	isInt := intExp.Cmp(b) == 0
	if a.Sign() < 0 && !isInt {
		return nil, errorf(StateInvalidPower, "a negative number raised to a non-integer power yields a complex result")
	}
	if isInt {
		if e, err := intExp.Int64(); err == nil && e >= math.MinInt32 && e <= math.MaxInt32 {
			rscale := clampScale(max(numericMinSigDigits, scaleOf(a)))
			return powerInt(a, e, rscale)
		}
	}
	if a.IsZero() {
		return ExactText(apd.New(0, -numericMinSigDigits)), nil
	}
	neg := a.Sign() < 0
	abs := new(apd.Decimal).Abs(a)
	// exp * ln(base), for the result's weight.
	lnb := new(apd.Decimal)
	if _, err := mathCtx(4, 20).Ln(lnb, abs); err != nil {
		return nil, err
	}
	lnNum := new(apd.Decimal)
	_, _ = mathCtx(adjExp(b)+4, 20).Mul(lnNum, lnb, b)
	val, _ := lnNum.Float64()
	if math.Abs(val) > numericMaxResultScale*3.01 {
		if val > 0 {
			return nil, errorf(StateOutOfRange, "value overflows numeric format")
		}
		return ExactText(apd.New(0, -numericMaxDisplayScale)), nil
	}
	val *= 0.434294481903252
	rscale := clampScale(max(numericMinSigDigits-int(val), scaleOf(a), scaleOf(b)))
	ctx := mathCtx(max(int(val), 0)+1, rscale)
	r := new(apd.Decimal)
	if _, err := ctx.Pow(r, abs, b); err != nil {
		return nil, errorf(StateOutOfRange, "value overflows numeric format")
	}
	if neg && isOdd(b) {
		r.Negative = true
	}
	return roundTo(r, rscale)
}

// isOdd reports whether integral d is odd.
func isOdd(d *apd.Decimal) bool {
	r := new(apd.Decimal)
	_, _ = numCtx.Rem(r, d, apd.New(2, 0))
	return !r.IsZero()
}

// powerInt is a^e for an int32 exponent, rounded to rscale.
func powerInt(a *apd.Decimal, e int64, rscale int) (any, error) {
	if e == 0 {
		return roundTo(apd.New(1, 0), rscale)
	}
	if a.IsZero() {
		return ExactText(apd.New(0, -int32(rscale))), nil
	}
	// Decimal weight of the result: e * log10(|a|).
	f, _ := new(apd.Decimal).Abs(a).Float64()
	adj := int(math.Ceil(float64(e)*math.Log10(f))) + 1
	if adj > numericMaxResultScale*3/2 {
		return nil, errorf(StateOutOfRange, "value overflows numeric format")
	}
	r := new(apd.Decimal)
	ctx := mathCtx(max(adj, 0), rscale)
	if _, err := ctx.Pow(r, a, apd.New(e, 0)); err != nil {
		return nil, errorf(StateOutOfRange, "value overflows numeric format")
	}
	return roundTo(r, rscale)
}
