package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"": "''", "abc": "'abc'", "it's": "'it''s'", "''": "''''''"} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRecordAccessors(t *testing.T) {
	r := Record{"s": "x", "big": "9007199254740993", "n": json.Number("42"), "b": true, "bs": "true", "null": nil}
	if r.String("s") != "x" || r.String("null") != "" || r.String("n") != "42" || r.String("missing") != "" {
		t.Errorf("String: %q %q %q", r.String("s"), r.String("null"), r.String("n"))
	}
	if r.Int("big") != 9007199254740993 || r.Int("n") != 42 || r.Int("s") != 0 {
		t.Errorf("Int: %d %d", r.Int("big"), r.Int("n"))
	}
	if !r.Bool("b") || !r.Bool("bs") || r.Bool("s") {
		t.Errorf("Bool")
	}
}

func TestIsCode(t *testing.T) {
	err := fmt.Errorf("while x: %w", &APIError{Code: "NOT_FOUND", HTTPStatus: 404})
	if !IsCode(err, "NOT_FOUND") || IsCode(err, "INVALID_SQL") || IsCode(errors.New("x"), "NOT_FOUND") {
		t.Error("IsCode")
	}
}
