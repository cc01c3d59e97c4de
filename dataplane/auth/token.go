package auth

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types carried in the token_type claim. They keep a long-lived
// refresh token from being replayed as an access token.
const (
	TokenTypeAccess  = "access"
	TokenTypeRefresh = "refresh"
)

const (
	// issuer is the iss claim of every KalamDB token.
	issuer = "kalamdb"
	// leeway tolerates clock skew between the nodes issuing and verifying.
	leeway = 60 * time.Second
)

// ErrInvalidToken is wrapped by every Verify failure caused by the token
// itself (malformed, bad signature, expired, wrong claims), so callers can
// answer 401 with errors.Is.
var ErrInvalidToken = errors.New("auth: invalid token")

// ErrTokenExpired is wrapped (besides ErrInvalidToken) by a Verify failure
// whose only fault is the expiry of an otherwise valid token: the
// signature is checked first, so a forged token never reports it. Clients
// use it to tell "refresh" from "log in again" (TOKEN_EXPIRED).
var ErrTokenExpired = fmt.Errorf("%w: token expired", ErrInvalidToken)

// verifyErr wraps a JWT parser failure as ErrTokenExpired or ErrInvalidToken.
func verifyErr(err error) error {
	if errors.Is(err, jwt.ErrTokenExpired) {
		return fmt.Errorf("%w: %w", ErrTokenExpired, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, err)
}

// Claims are the verified contents of a KalamDB token.
type Claims struct {
	// Subject identifies the user (the sub claim).
	Subject string
	// Role is the user's role at issue time.
	Role Role
	// TokenType is TokenTypeAccess or TokenTypeRefresh.
	TokenType string
	// IssuedAt and ExpiresAt are the iat and exp claims (second precision).
	IssuedAt, ExpiresAt time.Time
	// IssuedAtMs is the issue time in Unix milliseconds (the iat_ms claim,
	// falling back to iat). Revocation compares it with the user's
	// tokens_valid_after, which second precision would blur: a token minted
	// in the same second as a logout must not survive it.
	IssuedAtMs int64
}

// jwtClaims is the wire form of Claims.
type jwtClaims struct {
	Role      Role   `json:"role"`
	TokenType string `json:"token_type"`
	IatMs     int64  `json:"iat_ms,omitempty"`
	jwt.RegisteredClaims
}

// TokenIssuer issues and verifies HS256 JWTs with one shared secret.
type TokenIssuer struct {
	secret []byte
	expiry time.Duration
	// now is the clock; tests replace it.
	now func() time.Time
	// verified caches successful verifications (see Verify).
	verifiedMu sync.Mutex
	verified   map[string]Claims
}

// verifiedMax bounds the verification cache; when full it is emptied (a
// miss only costs one full verification, and only tokens signed with the
// secret ever get in).
const verifiedMax = 1024

// NewTokenIssuer returns an issuer signing with secret (at least SecretSize
// bytes, checked on use) whose tokens live for expiry. It copies secret so
// later changes by the caller do not alter signing.
func NewTokenIssuer(secret []byte, expiry time.Duration) *TokenIssuer {
	return &TokenIssuer{secret: append([]byte(nil), secret...), expiry: expiry, now: time.Now}
}

// Issue returns a signed token for sub with the given role and token type,
// and the time it expires.
func (t *TokenIssuer) Issue(sub string, role Role, tokenType string) (token string, expiresAt time.Time, err error) {
	if err := t.checkKey(); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue token: %w", err)
	}
	switch {
	case t.expiry <= 0:
		return "", time.Time{}, fmt.Errorf("auth: issue token: expiry %v must be positive", t.expiry)
	case sub == "":
		return "", time.Time{}, errors.New("auth: issue token: empty subject")
	case !role.valid():
		return "", time.Time{}, fmt.Errorf("auth: issue token: invalid role %q", role)
	case !validTokenType(tokenType):
		return "", time.Time{}, fmt.Errorf("auth: issue token: invalid token type %q", tokenType)
	}
	// JWT times have second precision; truncate so the returned expiry is
	// exactly what Verify will later report.
	exact := t.now()
	now := exact.Truncate(time.Second)
	expiresAt = now.Add(t.expiry)
	claims := jwtClaims{
		Role:      role,
		TokenType: tokenType,
		IatMs:     exact.UnixMilli(),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
		},
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue token: %w", err)
	}
	return token, expiresAt, nil
}

// Verify checks token's signature (HS256 only, so "none" and asymmetric
// algorithms cannot be substituted), issuer, expiry and issued-at (with 60s
// leeway), and that its token_type is wantType. Failures caused by the token
// wrap ErrInvalidToken.
func (t *TokenIssuer) Verify(token string, wantType string) (Claims, error) {
	if err := t.checkKey(); err != nil {
		return Claims{}, fmt.Errorf("auth: verify token: %w", err)
	}
	if !validTokenType(wantType) {
		return Claims{}, fmt.Errorf("auth: verify token: invalid wanted token type %q", wantType)
	}
	if c, ok := t.cachedClaims(token, wantType); ok {
		return c, nil
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithLeeway(leeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	var c jwtClaims
	keyFunc := func(*jwt.Token) (any, error) { return t.secret, nil }
	if _, err := parser.ParseWithClaims(token, &c, keyFunc); err != nil {
		return Claims{}, verifyErr(err)
	}
	// The parser checks iat only when present; require it so every token
	// carries the time it was minted.
	switch {
	case c.IssuedAt == nil:
		return Claims{}, fmt.Errorf("%w: missing iat claim", ErrInvalidToken)
	case c.Subject == "":
		return Claims{}, fmt.Errorf("%w: missing sub claim", ErrInvalidToken)
	case !c.Role.valid():
		return Claims{}, fmt.Errorf("%w: unknown role %q", ErrInvalidToken, c.Role)
	case c.TokenType != wantType:
		return Claims{}, fmt.Errorf("%w: token type %q, want %q", ErrInvalidToken, c.TokenType, wantType)
	}
	iatMs := c.IatMs
	// iat_ms must agree with iat (same second): it cannot push a token's
	// issue time past a revocation the signed iat is before.
	if iatMs == 0 || iatMs/1000 != c.IssuedAt.Unix() {
		iatMs = c.IssuedAt.UnixMilli()
	}
	claims := Claims{
		Subject:    c.Subject,
		Role:       c.Role,
		TokenType:  c.TokenType,
		IssuedAt:   c.IssuedAt.Time,
		ExpiresAt:  c.ExpiresAt.Time,
		IssuedAtMs: iatMs,
	}
	t.verifiedMu.Lock()
	if t.verified == nil || len(t.verified) >= verifiedMax {
		t.verified = make(map[string]Claims, 64)
	}
	t.verified[token] = claims
	t.verifiedMu.Unlock()
	return claims, nil
}

// cachedClaims answers Verify from the cache. A token string always
// verifies to the same claims (the secret is fixed for the issuer's life),
// so a hit only redoes the checks that depend on the clock: not expired
// and not issued in the future, each with the parser's leeway, and the
// wanted type. Anything else (a miss, an expiry) goes through the full
// parser, which also produces the exact error. Revocation is not a
// property of the token: callers check it on every request (checkActive).
// Saves the JWT decode and HMAC per HTTP request (tens of µs on a cold CPU,
// docs/benchmarks.md "W5: where the time goes").
func (t *TokenIssuer) cachedClaims(token, wantType string) (Claims, bool) {
	t.verifiedMu.Lock()
	c, ok := t.verified[token]
	t.verifiedMu.Unlock()
	if !ok || c.TokenType != wantType {
		return Claims{}, false
	}
	now := t.now()
	if !now.Before(c.ExpiresAt.Add(leeway)) || now.Add(leeway).Before(c.IssuedAt) {
		t.verifiedMu.Lock()
		delete(t.verified, token)
		t.verifiedMu.Unlock()
		return Claims{}, false
	}
	return c, true
}

// checkKey rejects secrets too short to be safe for HS256.
func (t *TokenIssuer) checkKey() error {
	if len(t.secret) < SecretSize {
		return fmt.Errorf("signing secret is %d bytes, need at least %d", len(t.secret), SecretSize)
	}
	return nil
}

func validTokenType(s string) bool {
	return s == TokenTypeAccess || s == TokenTypeRefresh
}
