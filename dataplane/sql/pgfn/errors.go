package pgfn

import (
	"fmt"
	"regexp"
)

// SQLSTATE codes PostgreSQL reports for the failures this package detects.
const (
	StateDivisionByZero      = "22012"
	StateOutOfRange          = "22003"
	StateInvalidText         = "22P02"
	StateInvalidLog          = "2201E"
	StateInvalidPower        = "2201F"
	StateInvalidParameter    = "22023"
	StateInvalidRegex        = "2201B"
	StateInvalidEscape       = "22025"
	StateInvalidDatetime     = "22007"
	StateDatetimeOutOfRange  = "22008"
	StateFeatureNotSupported = "0A000"
	StateUndefinedFunction   = "42883"
	StateStringTooLong       = "22001"
	StateCardinality         = "21000"
	StateGrouping            = "42803"
	StateDatatypeMismatch    = "42804"
	StateLimitNegative       = "2201W"
	StateOffsetNegative      = "2201X"
)

// stateNames are PostgreSQL's condition names for the codes above.
var stateNames = map[string]string{
	StateDivisionByZero:      "division_by_zero",
	StateOutOfRange:          "numeric_value_out_of_range",
	StateInvalidText:         "invalid_text_representation",
	StateInvalidLog:          "invalid_argument_for_logarithm",
	StateInvalidPower:        "invalid_argument_for_power_function",
	StateInvalidParameter:    "invalid_parameter_value",
	StateInvalidRegex:        "invalid_regular_expression",
	StateInvalidEscape:       "invalid_escape_sequence",
	StateInvalidDatetime:     "invalid_datetime_format",
	StateDatetimeOutOfRange:  "datetime_field_overflow",
	StateFeatureNotSupported: "feature_not_supported",
	StateUndefinedFunction:   "undefined_function",
	StateStringTooLong:       "string_data_right_truncation",
	StateCardinality:         "cardinality_violation",
	StateGrouping:            "grouping_error",
	StateDatatypeMismatch:    "datatype_mismatch",
	StateLimitNegative:       "invalid_row_count_in_limit_clause",
	StateOffsetNegative:      "invalid_row_count_in_result_offset_clause",
}

// Error is a failure with PostgreSQL's SQLSTATE.
type Error struct {
	State string
	Msg   string
}

// Error formats the message with a "(SQLSTATE xxxxx)" suffix: the text is
// all that survives SQLite's UDF error path, and ParseState recovers the
// code from it.
func (e *Error) Error() string { return e.Msg + " (SQLSTATE " + e.State + ")" }

// Name is PostgreSQL's condition name for the error's SQLSTATE.
func (e *Error) Name() string { return StateName(e.State) }

// StateName is PostgreSQL's condition name for state, or "" when unknown.
func StateName(state string) string { return stateNames[state] }

func errorf(state, format string, args ...any) *Error {
	return &Error{State: state, Msg: fmt.Sprintf(format, args...)}
}

var stateSuffix = regexp.MustCompile(`^(.*) \(SQLSTATE ([0-9A-Z]{5})\)$`)

// ParseState recovers an Error from a message produced by Error.Error,
// possibly wrapped in driver noise before it. ok is false for other text.
func ParseState(msg string) (e *Error, ok bool) {
	m := stateSuffix.FindStringSubmatch(msg)
	if m == nil {
		return nil, false
	}
	return &Error{State: m[2], Msg: m[1]}, true
}

func errDivZero() *Error { return errorf(StateDivisionByZero, "division by zero") }

func errIntRange(typ string) *Error {
	return errorf(StateOutOfRange, "%s out of range", typ)
}
