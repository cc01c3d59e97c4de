package sql

import (
	"database/sql/driver"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// The exact NUMERIC twin functions (pgfn/exact.go): the rewriter
// (parse.Rewritten.Exact) computes an outermost numeric result column a
// second time with these, and the result encoder prints their text.

// exactFuncs are the twins' scalar functions.
func exactFuncs() []udfFunc {
	fns := []udfFunc{
		{"kalam_x_col", 2, func(a []driver.Value) (driver.Value, error) {
			s, _, _ := intArg(a[1])
			return pgfn.ExactColumn(a[0], s)
		}},
		{"kalam_x_cast", 3, func(a []driver.Value) (driver.Value, error) {
			p, _, _ := intArg(a[1])
			s, _, _ := intArg(a[2])
			return pgfn.ExactCast(a[0], p, s)
		}},
		{"kalam_x_neg", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactNeg(a[0]) }},
		{"kalam_x_round", 2, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactRound(a[0], a[1], false) }},
		{"kalam_x_trunc", 2, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactRound(a[0], a[1], true) }},
	}
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		op := op
		fns = append(fns, udfFunc{"kalam_x_" + opName(op[0]), 2, func(a []driver.Value) (driver.Value, error) {
			return pgfn.ExactArith(op, a[0], a[1])
		}})
	}
	return append(append(fns, exactExtractFuncs()...), exactMathFuncs()...)
}

// exactAggregateKinds maps the twins' aggregate names (after the
// kalam_x_ or kalam_xi_ prefix) to pgfn.ExactAgg kinds.
var exactAggregateKinds = map[string]string{
	"sum": "sum", "avg": "avg", "min": "min", "max": "max",
	"stddev": "stddev_samp", "stddev_samp": "stddev_samp", "stddev_pop": "stddev_pop",
	"variance": "var_samp", "var_samp": "var_samp", "var_pop": "var_pop",
}

// exactAggregates are the twins' aggregates: kalam_x_<agg> over a typed
// numeric or integer argument, kalam_xi_<agg> over an argument of unknown
// type (exact only when every input is an integer).
func exactAggregates() map[string]func() *aggregate {
	out := map[string]func() *aggregate{}
	for name, kind := range exactAggregateKinds {
		for prefix, intsOnly := range map[string]bool{"kalam_x_": false, "kalam_xi_": true} {
			kind, intsOnly := kind, intsOnly
			out[prefix+name] = func() *aggregate {
				a := &pgfn.ExactAgg{Kind: kind, IntsOnly: intsOnly}
				return &aggregate{add: a.Add, value: a.Result}
			}
		}
	}
	return out
}

// exactExtractFuncs are the twins of EXTRACT over timestamps and
// intervals.
func exactExtractFuncs() []udfFunc {
	return []udfFunc{
		{"kalam_x_extract", 2, func(a []driver.Value) (driver.Value, error) {
			f, ok := textArg(a[0])
			if !ok {
				return nil, nil
			}
			return pgfn.ExactDatePart(f, a[1])
		}},
		{"kalam_x_extract_interval", 2, intervalPartFn(pgfn.ExactIntervalPart)},
	}
}
