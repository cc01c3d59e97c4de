package sql

import (
	"database/sql/driver"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// exactMathFuncs are the exact twins of sqrt, ln, log, exp and power of
// numerics (parse/rewrite_exact_math.go, pgfn/exact_math.go).
func exactMathFuncs() []udfFunc {
	return []udfFunc{
		{"kalam_x_sqrt", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactSqrtOf(a[0]) }},
		{"kalam_x_ln", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactLn(a[0]) }},
		{"kalam_x_exp", 1, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactExp(a[0]) }},
		{"kalam_x_log", 2, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactLog(a[0], a[1]) }},
		{"kalam_x_power", 2, func(a []driver.Value) (driver.Value, error) { return pgfn.ExactPower(a[0], a[1]) }},
	}
}
