package parse

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
		msg  string
	}{
		{"id", true, ""},
		{"user_id", true, ""},
		{"created_at", true, ""},
		{"name", true, ""},
		{"body", true, ""},
		{"Timestamp", true, ""},
		{"a1", true, ""},
		{strings.Repeat("a", 64), true, ""},
		{strings.Repeat("a", 65), false, "longer than 64"},
		{"", false, "must not be empty"},
		{"_seq", false, "must not start with '_'"},
		{"1abc", false, "must start with a letter"},
		{"a-b", false, "only letters, digits and '_'"},
		{"a b", false, "only letters, digits and '_'"},
		{"é", false, "must start with a letter"},
		{"select", false, "reserved word"},
		{"USER", false, "reserved word"},
		{"table", false, "reserved word"},
		{"key", false, "reserved word"},
		{"sqlite_master", false, "must not start with 'sqlite_'"},
	} {
		err := ValidateName("column", tc.name)
		if tc.ok {
			if err != nil {
				t.Errorf("ValidateName(%q) = %v, want nil", tc.name, err)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeInvalidInput || pe.Pos != -1 || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("ValidateName(%q) = %v, want INVALID_INPUT containing %q", tc.name, err, tc.msg)
		}
	}
}

func TestValidateNamespaceName(t *testing.T) {
	for name, ok := range map[string]bool{
		"default": true, "app": true, "chat_v2": true,
		"system": false, "SYS": false, "root": false, "kalamdb": false, "kalam": false,
		"main": false, "temp": false, "sql": false, "admin": false, "internal": false,
		"information_schema": false, "pg_catalog": false, "sqlite": false, "select": false,
	} {
		if err := ValidateNamespaceName(name); (err == nil) != ok {
			t.Errorf("ValidateNamespaceName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestValidateColumnName(t *testing.T) {
	for name, ok := range map[string]bool{
		"id": true, "_seq": false, "_DELETED": false, "_user": false, "_other": false, "user": false,
	} {
		if err := ValidateColumnName(name); (err == nil) != ok {
			t.Errorf("ValidateColumnName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	if err := ValidateColumnName("_seq"); err == nil || !strings.Contains(err.Error(), "reserved for system columns") {
		t.Errorf("ValidateColumnName(_seq) = %v, want a system-column message", err)
	}
}

func TestValidateUserName(t *testing.T) {
	for name, ok := range map[string]bool{
		"alice": true, "a.b-c_d@example.com": true, "Bob1": true, "_x": true,
		strings.Repeat("u", 128): true, strings.Repeat("u", 129): false,
		"": false, "a b": false, "a'b": false, "a\x00": false, `a"b`: false, "a/b": false,
	} {
		if err := ValidateUserName(name); (err == nil) != ok {
			t.Errorf("ValidateUserName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
