package sql

import (
	"strings"

	"github.com/kalamdb/kalamdb-k8s/dataplane/sql/pgfn"
)

// SQLState is the PostgreSQL SQLSTATE of the error: the one the PostgreSQL
// wire protocol sends, and the one the differential oracle (test/pgdiff)
// holds against PostgreSQL's. An error with PostgreSQL semantics (a
// function, cast, operator or grouping failure) keeps the exact SQLSTATE in
// its message ("... (SQLSTATE 22012)", see pgStateError), which survives the
// HTTP API too; other codes map to the PostgreSQL condition they mean,
// refined by message where one code covers several conditions.
func (e *Error) SQLState() string {
	if pe, ok := pgfn.ParseState(e.Message); ok {
		return pe.State
	}
	msg := strings.ToLower(e.Message)
	switch e.Code {
	case CodeInvalidSQL, CodeEmptySQL:
		if strings.Contains(msg, "read-only") {
			return "25006" // read_only_sql_transaction
		}
		if strings.Contains(msg, "not supported") || (strings.Contains(msg, "unsupported") && !strings.Contains(msg, "unsupported statement")) {
			return pgfn.StateFeatureNotSupported
		}
		return "42601" // syntax_error
	case CodeInvalidInput, CodeInvalidParameter:
		return pgfn.StateInvalidParameter
	case CodeParamsWithBatch:
		return "42P18" // indeterminate_datatype
	case CodeNotFound:
		switch {
		case strings.Contains(msg, "namespace"):
			return "3F000" // invalid_schema_name
		case strings.Contains(msg, "table"):
			return "42P01" // undefined_table
		case strings.Contains(msg, "column"):
			return "42703" // undefined_column
		}
		return "42704" // undefined_object
	case CodeAlreadyExists:
		switch {
		case strings.Contains(msg, "namespace"):
			return "42P06" // duplicate_schema
		case strings.Contains(msg, "table"):
			return "42P07" // duplicate_table
		}
		return "42710" // duplicate_object
	case CodeDuplicateKey:
		return "23505" // unique_violation
	case CodeNodeLocalStorage, CodeAutoIncrementInCluster:
		return pgfn.StateFeatureNotSupported
	case CodeConstraint:
		if strings.Contains(msg, "null") {
			return "23502" // not_null_violation
		}
		return "23514" // check_violation
	case CodeTypeMismatch:
		return pgfn.StateInvalidText
	case CodePermissionDenied:
		return "42501" // insufficient_privilege
	case CodeTimeout:
		return "57014" // query_canceled
	case CodeResultTooLarge:
		return "54000" // program_limit_exceeded, as for postgres_wire.max_result_rows
	case CodeExecution:
		return executionState(msg)
	}
	return "XX000" // internal_error
}

// executionState refines SQL_EXECUTION_ERROR (mostly SQLite's own errors)
// by its lower-cased message.
func executionState(msg string) string {
	switch {
	case strings.Contains(msg, "no such column"), strings.Contains(msg, "cannot join using column"):
		return "42703" // undefined_column
	case strings.Contains(msg, "no such table"):
		return "42P01" // undefined_table
	case strings.Contains(msg, "no such function"), strings.Contains(msg, "wrong number of arguments"):
		return pgfn.StateUndefinedFunction
	case strings.Contains(msg, "syntax error"), strings.Contains(msg, "incomplete input"):
		return "42601" // syntax_error
	case strings.Contains(msg, "do not have the same number of result columns"),
		strings.Contains(msg, "sub-select returns"):
		return "42601" // syntax_error, as PostgreSQL's "each UNION query must have the same number of columns"
	case strings.Contains(msg, "term out of range - should be between"):
		return "42P10" // invalid_column_reference: ORDER BY / GROUP BY position
	case strings.Contains(msg, "misuse of aggregate"), strings.Contains(msg, "aggregate functions are not allowed"):
		return pgfn.StateGrouping
	case strings.Contains(msg, "misuse of window function"):
		return "42P20" // windowing_error
	case strings.Contains(msg, "ambiguous"):
		return "42702" // ambiguous_column
	case strings.Contains(msg, "division by zero"):
		return pgfn.StateDivisionByZero
	case strings.Contains(msg, "conflict"):
		return "40001" // serialization_failure
	}
	return "22000" // data_exception
}
