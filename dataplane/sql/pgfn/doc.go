// Package pgfn implements PostgreSQL's semantics for values, functions,
// operators and casts over the values the SQL engine computes with (nil,
// int64, float64, string, []byte). It knows no SQLite: dataplane/sql
// registers these functions as SQLite UDFs, and Go-side evaluators can call
// them directly, so every path answers the same.
//
// Invariants:
//   - Functions are pure: the same arguments give the same answer (except
//     the clock-reading ones, which take the time as an argument).
//   - Every failure PostgreSQL reports is an *Error carrying PostgreSQL's
//     SQLSTATE (22012 division_by_zero, 22003 numeric_value_out_of_range,
//     22P02 invalid_text_representation, ...); nothing panics.
//   - DECIMAL/NUMERIC values travel through SQLite as float64. Arithmetic
//     on them is exact over their shortest decimal representation (which
//     is the value written for every decimal of at most 15 significant
//     digits), computed with github.com/cockroachdb/apd/v3. Printed
//     results come from the Exact* twins (exact.go): decimal text with
//     PostgreSQL's display scale.
//   - NULL in gives NULL out unless PostgreSQL says otherwise (concat,
//     greatest/least skip NULLs).
package pgfn
