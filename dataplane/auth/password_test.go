package auth

import (
	"strings"
	"testing"
)

// testCost keeps bcrypt fast in tests.
const testCost = 4

func TestHashAndCheckPassword(t *testing.T) {
	long := strings.Repeat("a", 72) + "-tail"
	for _, tc := range []struct {
		name, password, attempt string
		want                    bool
	}{
		{"match", "correct horse", "correct horse", true},
		{"wrong password", "correct horse", "correct horsf", false},
		{"empty attempt", "correct horse", "", false},
		{"exactly 72 bytes", strings.Repeat("b", 72), strings.Repeat("b", 72), true},
		{"long password matches", long, long, true},
		{"long password differs from its 72-byte prefix", long, long[:72], false},
		{"long passwords differing after byte 72", long, strings.Repeat("a", 72) + "-tall", false},
		{"unicode", "pässwörd-✓-密码", "pässwörd-✓-密码", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, err := HashPassword(tc.password, testCost)
			if err != nil {
				t.Fatalf("HashPassword: %v", err)
			}
			if got := CheckPassword(hash, tc.attempt); got != tc.want {
				t.Errorf("CheckPassword = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHashPasswordErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		cost     int
	}{
		{"empty password", "", testCost},
		{"cost too low", "secret-pw", 3},
		{"cost too high", "secret-pw", 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := HashPassword(tc.password, tc.cost); err == nil {
				t.Error("HashPassword succeeded, want error")
			}
		})
	}
}

func TestCheckPasswordMalformedHash(t *testing.T) {
	for _, hash := range []string{"", "not-a-hash", "$2a$04$short"} {
		if CheckPassword(hash, "anything") {
			t.Errorf("CheckPassword(%q) = true, want false", hash)
		}
	}
}
