package pgfn

import (
	"math"

	"github.com/cockroachdb/apd/v3"
)

// This file holds aggregate accumulators. Each supports removal so it can
// back a moving window frame.

// VarianceKind selects the statistic Moments computes.
type VarianceKind uint8

// The statistics of stddev/variance and their _samp/_pop forms.
const (
	VarSamp VarianceKind = iota
	VarPop
	StddevSamp
	StddevPop
)

// Moments accumulates the count, sum and sum of squares of its inputs
// exactly (NUMERIC arithmetic), so variance has no cancellation error.
type Moments struct {
	n          int64
	sum, sumSq apd.Decimal
	special    int64 // NaN or infinities among the inputs
}

// Add adds one value (NULL is skipped).
func (m *Moments) Add(v any) error { return m.step(v, 1) }

// Remove takes one value added earlier back out.
func (m *Moments) Remove(v any) error { return m.step(v, -1) }

func (m *Moments) step(v any, sign int64) error {
	if v == nil {
		return nil
	}
	n, err := asNumber(v)
	if err != nil {
		return err
	}
	d, ok, err := DecimalOf(n)
	if err != nil {
		return err
	}
	m.n += sign
	if !ok {
		m.special += sign
		return nil
	}
	sq := new(apd.Decimal)
	if _, err := numCtx.Mul(sq, d, d); err != nil {
		return err
	}
	op := numCtx.Add
	if sign < 0 {
		op = numCtx.Sub
	}
	if _, err := op(&m.sum, &m.sum, d); err != nil {
		return err
	}
	_, err = op(&m.sumSq, &m.sumSq, sq)
	return err
}

// Result is the statistic; NULL when there are too few values.
func (m *Moments) Result(kind VarianceKind) (any, error) {
	samp := kind == VarSamp || kind == StddevSamp
	if m.n == 0 || (samp && m.n < 2) {
		return nil, nil
	}
	if m.special > 0 {
		return math.NaN(), nil
	}
	// (n*sumSq - sum^2) / (n*(n-1)) for the sample, / n^2 for the population.
	n := apd.New(m.n, 0)
	num, t := new(apd.Decimal), new(apd.Decimal)
	if _, err := numCtx.Mul(num, n, &m.sumSq); err != nil {
		return nil, err
	}
	if _, err := numCtx.Mul(t, &m.sum, &m.sum); err != nil {
		return nil, err
	}
	if _, err := numCtx.Sub(num, num, t); err != nil {
		return nil, err
	}
	den := new(apd.Decimal)
	if samp {
		if _, err := numCtx.Mul(den, n, apd.New(m.n-1, 0)); err != nil {
			return nil, err
		}
	} else if _, err := numCtx.Mul(den, n, n); err != nil {
		return nil, err
	}
	r := new(apd.Decimal)
	if _, err := divCtx.Quo(r, num, den); err != nil {
		return nil, err
	}
	if kind == StddevSamp || kind == StddevPop {
		if r.Negative {
			r.SetInt64(0)
		}
		if _, err := divCtx.Sqrt(r, r); err != nil {
			return nil, err
		}
	}
	// PostgreSQL answers with (at least) 16 decimal places for integer
	// and short decimal inputs; rounding there first keeps the float64
	// the same as the one its text reads back as.
	if r.Exponent < -16 {
		if _, err := numCtx.Quantize(r, r, -16); err != nil {
			return nil, err
		}
	}
	return floatOfDec(r)
}

// BoolAgg accumulates bool_and (every) or, with Or set, bool_or.
type BoolAgg struct {
	Or            bool
	nTrue, nFalse int64
}

// Add adds one value (NULL is skipped).
func (b *BoolAgg) Add(v any) error { return b.step(v, 1) }

// Remove takes one value added earlier back out.
func (b *BoolAgg) Remove(v any) error { return b.step(v, -1) }

func (b *BoolAgg) step(v any, sign int64) error {
	if v == nil {
		return nil
	}
	x, err := CastBool(v)
	if err != nil {
		return err
	}
	if x.(int64) != 0 {
		b.nTrue += sign
	} else {
		b.nFalse += sign
	}
	return nil
}

// Result is 1/0, or NULL without input.
func (b *BoolAgg) Result() any {
	if b.nTrue+b.nFalse == 0 {
		return nil
	}
	if b.Or {
		return boolInt(b.nTrue > 0)
	}
	return boolInt(b.nFalse == 0)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Sum accumulates SUM (and AVG) exactly: integers as int64 while they
// fit, as numeric past that (PostgreSQL's sum(bigint) is numeric and does
// not overflow), other numbers as numeric.
type Sum struct {
	n       int64
	allInt  bool // no non-integer input so far
	started bool
	isInt   bool // every value so far was an integer and the sum fits
	i       int64
	d       apd.Decimal
	special float64 // NaN and infinities, summed as floats
	nSpec   int64
}

// Add adds one value (NULL is skipped).
func (s *Sum) Add(v any) error { return s.step(v, 1) }

// Remove takes one value added earlier back out.
func (s *Sum) Remove(v any) error { return s.step(v, -1) }

func (s *Sum) step(v any, sign int64) error {
	if v == nil {
		return nil
	}
	n, err := asNumber(v)
	if err != nil {
		return err
	}
	if !s.started {
		s.started, s.isInt, s.allInt = true, true, true
	}
	if _, ok := n.(int64); !ok {
		s.allInt = false
	}
	s.n += sign
	if i, ok := n.(int64); ok && s.isInt {
		var r int64
		var overflow bool
		if sign > 0 {
			r = s.i + i
			overflow = (i > 0 && r < s.i) || (i < 0 && r > s.i)
		} else {
			r = s.i - i
			overflow = (i < 0 && r < s.i) || (i > 0 && r > s.i)
		}
		if !overflow {
			s.i = r
			return nil
		}
		s.toDecimal()
	} else if s.isInt {
		s.toDecimal()
	}
	d, ok, err := DecimalOf(n)
	if err != nil {
		return err
	}
	if !ok {
		s.special += float64(sign) * toFloat(n)
		s.nSpec += sign
		return nil
	}
	if sign < 0 {
		_, err = numCtx.Sub(&s.d, &s.d, d)
	} else {
		_, err = numCtx.Add(&s.d, &s.d, d)
	}
	return err
}

func (s *Sum) toDecimal() {
	s.isInt = false
	s.d.SetInt64(s.i)
	s.i = 0
}

// Result is the sum, or NULL without input.
func (s *Sum) Result() (any, error) {
	switch {
	case s.n == 0:
		return nil, nil
	case s.isInt:
		return s.i, nil
	case s.nSpec > 0:
		f, _ := floatOfDec(&s.d)
		return f + s.special, nil
	case s.allInt:
		// An integer sum past int64: exact digits as text, as
		// PostgreSQL's numeric sum(bigint) prints them.
		return s.d.Text('f'), nil
	}
	return floatOfDec(&s.d)
}

// Avg is the mean, or NULL without input.
func (s *Sum) Avg() (any, error) {
	if s.n == 0 {
		return nil, nil
	}
	if s.nSpec > 0 {
		f, _ := floatOfDec(&s.d)
		return (f + s.special) / float64(s.n), nil
	}
	total := new(apd.Decimal)
	if s.isInt {
		total.SetInt64(s.i)
	} else {
		total.Set(&s.d)
	}
	r := new(apd.Decimal)
	if _, err := divCtx.Quo(r, total, apd.New(s.n, 0)); err != nil {
		return nil, err
	}
	return floatOfDec(r)
}
