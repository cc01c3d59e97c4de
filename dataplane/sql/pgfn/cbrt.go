package pgfn

import "math"

// glibc's cube root (sysdeps/ieee754/dbl-64/s_cbrt.c), which PostgreSQL's
// float8 cbrt calls on Linux: a polynomial first guess refined by one
// Halley step. It is not correctly rounded (cbrt(27) is
// 3.0000000000000004), so math.Cbrt answers differently in the last digit;
// this follows glibc operation by operation. The explicit float64
// conversions keep the compiler from fusing multiply-adds.

// cbrtFactor is glibc's factor[2+k]: 2^(k/3) for k = -2..2, with the
// reciprocals divided in double precision as C does (a Go constant
// expression would divide exactly and round once, 1 ulp off).
func cbrtFactor(k int) float64 {
	cbrt2, sqrCbrt2 := 1.2599210498948731648, 1.5874010519681994748
	switch k {
	case -2:
		return 1.0 / sqrCbrt2
	case -1:
		return 1.0 / cbrt2
	case 1:
		return cbrt2
	case 2:
		return sqrCbrt2
	}
	return 1.0
}

// glibcCbrt is glibc's cbrt(x).
func glibcCbrt(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x + x
	}
	xm, xe := math.Frexp(math.Abs(x))
	u := float64(0.784932344976639262 - float64(0.145263899385486377*xm))
	u = float64(-1.83469277483613086 + float64(u*xm))
	u = float64(2.44693122563534430 + float64(u*xm))
	u = float64(-2.11499494167371287 + float64(u*xm))
	u = float64(1.50819193781584896 + float64(u*xm))
	u = float64(0.354895765043919860 + float64(u*xm))
	t2 := float64(float64(u*u) * u)
	ym := float64(float64(float64(u*float64(t2+float64(2.0*xm)))/float64(float64(2.0*t2)+xm)) * cbrtFactor(xe%3))
	if x < 0 {
		ym = -ym
	}
	return math.Ldexp(ym, xe/3)
}
