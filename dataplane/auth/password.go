package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// bcryptMaxBytes is bcrypt's input limit; longer input is silently truncated
// by most implementations and rejected by Go's.
const bcryptMaxBytes = 72

// HashPassword returns the bcrypt hash of password at the given cost (4..31).
// Passwords longer than 72 bytes are pre-hashed, see bcryptInput.
func HashPassword(password string, cost int) (string, error) {
	if password == "" {
		return "", errors.New("auth: hash password: password is empty")
	}
	// bcrypt.GenerateFromPassword quietly replaces a too-low cost with its
	// default; reject instead so a misconfiguration is visible.
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return "", fmt.Errorf("auth: hash password: bcrypt cost %d is not in %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	h, err := bcrypt.GenerateFromPassword(bcryptInput(password), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash. bcrypt compares in
// constant time; a malformed hash simply does not match.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), bcryptInput(password)) == nil
}

// bcryptInput returns the bytes fed to bcrypt. Passwords over 72 bytes are
// replaced by base64(SHA-256(password)) (44 bytes), so every byte counts
// instead of two passwords sharing a 72-byte prefix hashing alike. Base64
// keeps the input free of NUL bytes, which some bcrypt implementations treat
// as a terminator.
func bcryptInput(password string) []byte {
	if len(password) <= bcryptMaxBytes {
		return []byte(password)
	}
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}
