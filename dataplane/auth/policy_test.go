package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordPolicyCheck(t *testing.T) {
	p := PasswordPolicy{MinLength: 8, MaxLength: 16}
	for _, tc := range []struct {
		name     string
		policy   PasswordPolicy
		password string
		want     string // substring of the error; "" means accepted
	}{
		{"ok", p, "tr0ub4dor&3", ""},
		{"exactly min", p, "xk3-v9qz", ""},
		{"exactly max", p, strings.Repeat("z", 16), ""},
		{"too short", p, "abc", "at least 8 characters"},
		{"empty", p, "", "at least 8 characters"},
		{"too long", p, strings.Repeat("z", 17), "at most 16 characters"},
		{"runes not bytes", p, "ääääääää", ""}, // 8 runes, 16 bytes
		{"common", p, "password", "most common passwords"},
		{"common any case", p, "PassWord123", "most common passwords"},
		{"common digits", p, "12345678", "most common passwords"},
		{"common qwerty", p, "qwerty123", "most common passwords"},
		{"no max", PasswordPolicy{MinLength: 1}, strings.Repeat("z", 5000), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.password)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want error containing %q", err, tc.want)
			}
			if !errors.Is(err, ErrWeakPassword) {
				t.Errorf("Check error %v does not wrap ErrWeakPassword", err)
			}
		})
	}
}
