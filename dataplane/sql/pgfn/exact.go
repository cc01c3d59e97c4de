package pgfn

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Exact NUMERIC results with PostgreSQL's display scale.
//
// NUMERIC values travel through SQLite as float64 (so they compare, sort
// and group numerically everywhere), which cannot carry PostgreSQL's
// display scale (100.00) nor more than ~16 significant digits
// (11.9259259259259259). For a result column of the outermost select
// list whose type is numeric, the rewriter adds a hidden "twin" column
// computing the same expression with the Exact* functions below; the
// result encoder prints the twin's text in place of the double. Twin
// values are only ever printed, never compared or sorted by SQLite.
//
// Invariants:
//   - A twin value is NULL, an int64 (an exact integer, display scale 0)
//     or decimal text whose digits after the point are its display scale
//     ("1.50" has scale 2), as PostgreSQL's numeric prints it.
//   - Arithmetic follows PostgreSQL's numeric.c: + and - take the larger
//     scale, * the sum of scales, / and avg select_div_scale and round
//     half away from zero, % the larger scale; variance and stddev follow
//     numeric_stddev_internal.
//   - A float64 argument stands for the decimal of its shortest
//     representation (stored DECIMAL columns reach SQLite as doubles; a
//     column's declared scale is restored by ExactColumn). Exact for values
//     of up to 15 significant digits.

// Division scale constants of PostgreSQL's numeric.c.
const (
	numericMinSigDigits     = 16
	numericMaxDisplayScale  = 1000
	numericMaxResultDigits  = 4000
	decDigits               = 4
	numericMinDisplayScale  = 0
	exactTruncatePrecisionX = 8 // extra digits computed before the final rounding
)

// exactArg reads a twin argument; ok is false for NULL and for values
// that have no exact decimal (NaN, infinities, non-numbers).
func exactArg(v any) (*apd.Decimal, bool, error) {
	switch x := v.(type) {
	case nil:
		return nil, false, nil
	case int64:
		return apd.New(x, 0), true, nil
	case string:
		d, err := parseNumeric(x)
		if err != nil {
			return nil, false, err
		}
		return d, true, nil
	case float64:
		d, ok, err := DecimalOf(x)
		return d, ok && err == nil, err
	}
	return nil, false, nil
}

// ExactText prints d as PostgreSQL prints a numeric: its scale is the
// number of digits after the point (never negative), no negative zero.
func ExactText(d *apd.Decimal) string {
	r := d
	if d.Exponent > 0 {
		r = new(apd.Decimal)
		_, _ = numCtx.Quantize(r, d, 0)
	}
	if r.IsZero() && r.Negative {
		c := *r
		c.Negative = false
		r = &c
	}
	return r.Text('f')
}

// scaleOf is d's display scale.
func scaleOf(d *apd.Decimal) int {
	if d.Exponent >= 0 {
		return 0
	}
	return int(-d.Exponent)
}

// roundScale rounds d half away from zero to s digits after the point.
func roundScale(d *apd.Decimal, s int) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	ctx := numCtx
	if n := int(d.NumDigits()) + int(d.Exponent) + s + 2; n > int(ctx.Precision) {
		ctx.Precision = uint32(min(n, numericMaxResultDigits))
	}
	if _, err := ctx.Quantize(r, d, -int32(s)); err != nil {
		return nil, errorf(StateOutOfRange, "value overflows numeric format")
	}
	return r, nil
}

// ExactColumn is a stored DECIMAL(p,s) column's value (a float64 in
// SQLite) with its declared scale s.
func ExactColumn(v any, scale int64) (any, error) {
	d, ok, err := exactArg(v)
	if !ok || err != nil {
		return nil, err
	}
	r, err := roundScale(d, int(scale))
	if err != nil {
		return nil, err
	}
	return ExactText(r), nil
}

// ExactCast is x::numeric(p,s) (p == 0: unconstrained numeric, the
// value keeps its scale).
func ExactCast(v any, p, s int64) (any, error) {
	d, ok, err := exactArg(v)
	if !ok || err != nil {
		return nil, err
	}
	if p == 0 {
		return ExactText(d), nil
	}
	r, err := roundScale(d, int(s))
	if err != nil {
		return nil, err
	}
	if intDigits(r) > int(p-s) {
		return nil, errorf(StateOutOfRange, "numeric field overflow")
	}
	return ExactText(r), nil
}

// ExactNeg is -x.
func ExactNeg(v any) (any, error) {
	d, ok, err := exactArg(v)
	if !ok || err != nil {
		return nil, err
	}
	r := new(apd.Decimal).Neg(d)
	return ExactText(r), nil
}

// ExactArith is x op y for op one of + - * / %, with numeric.c's display
// scales (decimalArith, scaleDisplay).
func ExactArith(op string, x, y any) (any, error) {
	a, oka, err := exactArg(x)
	if err != nil {
		return nil, err
	}
	b, okb, err := exactArg(y)
	if err != nil || !oka || !okb {
		return nil, err
	}
	if len(op) != 1 {
		return nil, scaleDisplay.noOperator(op)
	}
	r, err := decimalArith(op[0], a, b, scaleDisplay)
	if err != nil {
		return nil, err
	}
	return ExactText(r), nil
}

// nbaseWeight is PostgreSQL's (normalised) weight of d in base-10000
// digits and the value of its first base-10000 digit (0, 0 for zero).
func nbaseWeight(d *apd.Decimal) (weight int, first int) {
	if d.IsZero() {
		return 0, 0
	}
	digits := d.Coeff.String()
	adj := len(digits) - 1 + int(d.Exponent) // power of ten of the leading digit
	weight = adj / decDigits
	if adj < 0 && adj%decDigits != 0 {
		weight--
	}
	n := adj - decDigits*weight + 1 // leading digits in the first group
	for k := 0; k < n; k++ {
		first *= 10
		if k < len(digits) {
			first += int(digits[k] - '0')
		}
	}
	return weight, first
}

// selectDivScale is numeric.c's select_div_scale: at least 16
// significant digits, and no fewer digits after the point than either
// input shows.
func selectDivScale(a, b *apd.Decimal) int {
	w1, f1 := nbaseWeight(a)
	w2, f2 := nbaseWeight(b)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := numericMinSigDigits - qweight*decDigits
	rscale = max(rscale, scaleOf(a), scaleOf(b), numericMinDisplayScale)
	return min(rscale, numericMaxDisplayScale)
}

// exactDiv is a / b rounded half away from zero to rscale digits after
// the point (numeric.c's div_var with round = true).
func exactDiv(a, b *apd.Decimal, rscale int) (*apd.Decimal, error) {
	if b.IsZero() {
		return nil, errorf(StateDivisionByZero, "division by zero")
	}
	// Truncate with a few extra digits, then round once: truncation keeps
	// whether the tail is at least one half, so the result is exactly
	// PostgreSQL's.
	adjA := int(a.NumDigits()) + int(a.Exponent)
	adjB := int(b.NumDigits()) + int(b.Exponent)
	prec := max(adjA-adjB+2, 1) + rscale + exactTruncatePrecisionX
	ctx := apd.Context{Precision: uint32(min(prec, numericMaxResultDigits)), MaxExponent: apd.MaxExponent,
		MinExponent: apd.MinExponent, Traps: apd.DefaultTraps, Rounding: apd.RoundDown}
	q := new(apd.Decimal)
	if _, err := ctx.Quo(q, a, b); err != nil {
		return nil, err
	}
	return roundScale(q, rscale)
}

// exactSqrt is sqrt(d) rounded to rscale digits after the point.
func exactSqrt(d *apd.Decimal, rscale int) (*apd.Decimal, error) {
	prec := (int(d.NumDigits())+int(d.Exponent))/2 + 2 + rscale + exactTruncatePrecisionX
	ctx := apd.Context{Precision: uint32(min(max(prec, 1), numericMaxResultDigits)), MaxExponent: apd.MaxExponent,
		MinExponent: apd.MinExponent, Traps: apd.DefaultTraps, Rounding: apd.RoundDown}
	r := new(apd.Decimal)
	if _, err := ctx.Sqrt(r, d); err != nil {
		return nil, err
	}
	return roundScale(r, rscale)
}

// ExactAgg accumulates one exact twin aggregate: sum, avg, min, max,
// and the variance and standard deviation family.
type ExactAgg struct {
	// Kind is "sum", "avg", "min", "max" or a VarianceKind name
	// ("var_samp", "var_pop", "stddev_samp", "stddev_pop").
	Kind string
	// IntsOnly: the argument's type is unknown to the rewriter; only
	// integer inputs (certainly integer or numeric in PostgreSQL) give an
	// exact answer, any other input makes the result NULL (the encoder
	// then prints the ordinary value).
	IntsOnly bool

	n       int64
	other   bool // IntsOnly and a non-integer was seen
	sum     apd.Decimal
	sumSq   apd.Decimal
	extreme *apd.Decimal
}

// Add adds one value (NULL is skipped).
func (a *ExactAgg) Add(v any) error {
	if v == nil {
		return nil
	}
	if _, isInt := v.(int64); a.IntsOnly && !isInt {
		a.other = true
		return nil
	}
	d, ok, err := exactArg(v)
	if err != nil {
		return err
	}
	if !ok {
		a.other = true
		return nil
	}
	a.n++
	switch a.Kind {
	case "min", "max":
		if a.extreme == nil {
			a.extreme = new(apd.Decimal).Set(d)
			return nil
		}
		c := d.Cmp(a.extreme)
		if (a.Kind == "min" && c < 0) || (a.Kind == "max" && c > 0) {
			a.extreme.Set(d)
		}
		return nil
	}
	if _, err := numCtx.Add(&a.sum, &a.sum, d); err != nil {
		return err
	}
	if strings.HasPrefix(a.Kind, "var") || strings.HasPrefix(a.Kind, "stddev") {
		sq := new(apd.Decimal)
		if _, err := numCtx.Mul(sq, d, d); err != nil {
			return err
		}
		if _, err := numCtx.Add(&a.sumSq, &a.sumSq, sq); err != nil {
			return err
		}
	}
	return nil
}

// Result is the aggregate's twin value: decimal text, or NULL.
func (a *ExactAgg) Result() (any, error) {
	if a.n == 0 || a.other {
		return nil, nil
	}
	switch a.Kind {
	case "sum":
		return ExactText(&a.sum), nil
	case "min", "max":
		return ExactText(a.extreme), nil
	case "avg":
		r, err := exactDiv(&a.sum, apd.New(a.n, 0), selectDivScale(&a.sum, apd.New(a.n, 0)))
		if err != nil {
			return nil, err
		}
		return ExactText(r), nil
	}
	sample := strings.HasSuffix(a.Kind, "samp")
	if sample && a.n == 1 {
		return nil, nil
	}
	// numeric_stddev_internal: (N * sumX2 - sumX * sumX) / (N * (N-1) or N * N).
	n := apd.New(a.n, 0)
	num, t := new(apd.Decimal), new(apd.Decimal)
	if _, err := numCtx.Mul(num, n, &a.sumSq); err != nil {
		return nil, err
	}
	if _, err := numCtx.Mul(t, &a.sum, &a.sum); err != nil {
		return nil, err
	}
	if _, err := numCtx.Sub(num, num, t); err != nil {
		return nil, err
	}
	if num.Sign() <= 0 {
		return "0", nil
	}
	den := apd.New(a.n*a.n, 0)
	if sample {
		den = apd.New(a.n*(a.n-1), 0)
	}
	rscale := selectDivScale(num, den)
	r, err := exactDiv(num, den, rscale)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(a.Kind, "stddev") {
		if r, err = exactSqrt(r, rscale); err != nil {
			return nil, err
		}
	}
	return ExactText(r), nil
}

// ExactDatePart is the exact twin of EXTRACT(field FROM timestamp) for
// the fields PostgreSQL answers with a fractional numeric: second (scale
// 6), milliseconds (3), epoch (6), julian (day + fraction of the day by
// numeric division). Other fields are integers and have no twin (NULL).
func ExactDatePart(field string, v any) (any, error) {
	micros, ok, err := timestampArg(v)
	if !ok || err != nil {
		return nil, err
	}
	inMinute := micros - floorDiv(micros, microsPerMinute)*microsPerMinute
	switch strings.ToLower(field) {
	case "second", "seconds", "sec":
		return ExactText(apd.New(inMinute, -6)), nil
	case "milliseconds", "millisecond", "ms":
		return ExactText(apd.New(inMinute, -3)), nil
	case "epoch":
		return ExactText(apd.New(micros, -6)), nil
	case "julian":
		day := floorDiv(micros, microsPerDay)
		us, per := apd.New(micros-day*microsPerDay, 0), apd.New(microsPerDay, 0)
		frac, err := exactDiv(us, per, selectDivScale(us, per))
		if err != nil {
			return nil, err
		}
		r := new(apd.Decimal)
		if _, err := numCtx.Add(r, frac, apd.New(day+2440588, 0)); err != nil {
			return nil, err
		}
		return ExactText(r), nil
	}
	return nil, nil
}

// ExactIntervalPart is the exact twin of EXTRACT(field FROM interval)
// for second, milliseconds and epoch (years of 365.25 days, months of
// 30, as PostgreSQL counts them); NULL for the integer fields.
func ExactIntervalPart(field string, iv Interval) (any, error) {
	switch strings.ToLower(field) {
	case "second", "seconds":
		return ExactText(apd.New(iv.Micros%microsPerMinute, -6)), nil
	case "milliseconds", "millisecond":
		return ExactText(apd.New(iv.Micros%microsPerMinute, -3)), nil
	case "epoch":
		quarterDays := 1461*(iv.Months/12) + 120*(iv.Months%12) + 4*iv.Days
		secs := quarterDays * (86400 / 4)
		return ExactText(apd.New(secs*1000000+iv.Micros, -6)), nil
	}
	return nil, nil
}

// ExactRound is the twin of round(x, n) (trunc with down): x rounded half
// away from zero (toward zero) at n digits after the point; the result's
// scale is n, never negative.
func ExactRound(x, n any, down bool) (any, error) {
	d, ok, err := exactArg(x)
	if !ok || err != nil {
		return nil, err
	}
	places, isInt := n.(int64)
	if !isInt {
		return nil, nil
	}
	places = max(min(places, numericMaxDisplayScale), -numericMaxDisplayScale)
	ctx := numCtx
	if down {
		ctx.Rounding = apd.RoundDown
	}
	if n := int(d.NumDigits()) + int(d.Exponent) + int(places) + 2; n > int(ctx.Precision) {
		ctx.Precision = uint32(min(n, numericMaxResultDigits))
	}
	r := new(apd.Decimal)
	if _, err := ctx.Quantize(r, d, -int32(places)); err != nil {
		return nil, errorf(StateOutOfRange, "value out of range: %v", err)
	}
	return ExactText(r), nil
}
