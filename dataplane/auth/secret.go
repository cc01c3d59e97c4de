package auth

import (
	"crypto/rand"
	"fmt"
)

// SecretSize is the length of secrets from GenerateSecret and the minimum
// accepted by TokenIssuer: HS256 keys shorter than the SHA-256 output weaken
// the signature.
const SecretSize = 32

// GenerateSecret returns SecretSize cryptographically random bytes, suitable
// as a JWT signing secret.
func GenerateSecret() ([]byte, error) {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: generate secret: %w", err)
	}
	return b, nil
}
