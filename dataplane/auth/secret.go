package auth

import (
	"crypto/rand"
	"fmt"
	"strings"
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

// wellKnownSecrets are placeholder secrets from sample configs and docs;
// anyone can forge tokens signed with them.
var wellKnownSecrets = map[string]bool{
	"change_me_in_production": true, "changeme": true, "secret": true,
	"your-secret-key": true, "your-256-bit-secret": true, "kalamdb": true,
	"jwt_secret": true, "jwt-secret": true, "supersecret": true,
}

// WeakSecret reports why a configured JWT secret is unsafe to expose to a
// network ("" when it is acceptable): empty, shorter than SecretSize, a
// well-known placeholder (case-insensitively, also as a prefix of a padded
// value), or with fewer than 8 distinct bytes (e.g. "aaaa...").
func WeakSecret(secret string) string {
	switch {
	case secret == "":
		return "empty"
	case len(secret) < SecretSize:
		return "shorter than 32 bytes"
	}
	lower := strings.ToLower(secret)
	for w := range wellKnownSecrets {
		if strings.HasPrefix(lower, w) {
			return "a well-known placeholder"
		}
	}
	distinct := map[byte]bool{}
	for i := 0; i < len(secret); i++ {
		distinct[secret[i]] = true
	}
	if len(distinct) < 8 {
		return "too repetitive (fewer than 8 distinct bytes)"
	}
	return ""
}
