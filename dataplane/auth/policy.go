package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrWeakPassword is wrapped by every PasswordPolicy.Check failure, so
// handlers can map all of them to a client error with errors.Is.
var ErrWeakPassword = errors.New("auth: password rejected")

// PasswordPolicy bounds acceptable passwords. Lengths count characters
// (runes), not bytes, so non-ASCII passwords are not penalised.
type PasswordPolicy struct {
	// MinLength is the shortest accepted password.
	MinLength int
	// MaxLength is the longest accepted password; zero or less disables the
	// maximum.
	MaxLength int
}

// commonPasswords holds the most-guessed passwords (lower case) that still
// pass a typical minimum length; credential-stuffing lists try these first.
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password12": true, "password123": true,
	"passw0rd": true, "p@ssw0rd": true, "12345678": true, "123456789": true,
	"1234567890": true, "12341234": true, "87654321": true, "11111111": true,
	"00000000": true, "qwerty123": true, "qwertyuiop": true, "1q2w3e4r": true,
	"1qaz2wsx": true, "asdfghjkl": true, "abc12345": true, "abcd1234": true,
	"iloveyou": true, "letmein1": true, "welcome1": true, "welcome123": true,
	"sunshine": true, "football": true, "baseball": true, "princess": true,
	"trustno1": true, "changeme": true, "admin123": true, "administrator": true,
	"root1234": true, "superman": true, "kalamdb": true, "kalamdb123": true,
}

// Check returns an error wrapping ErrWeakPassword when password is too
// short, too long, or one of the most common passwords.
func (p PasswordPolicy) Check(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < p.MinLength:
		return fmt.Errorf("%w: must be at least %d characters, got %d", ErrWeakPassword, p.MinLength, n)
	case p.MaxLength > 0 && n > p.MaxLength:
		return fmt.Errorf("%w: must be at most %d characters, got %d", ErrWeakPassword, p.MaxLength, n)
	case commonPasswords[strings.ToLower(password)]:
		return fmt.Errorf("%w: it is one of the most common passwords; choose a less guessable one", ErrWeakPassword)
	}
	return nil
}
