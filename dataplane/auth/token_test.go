package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	testSecret = []byte(strings.Repeat("s", SecretSize))
	testNow    = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// issuerAt returns an issuer whose clock is fixed at now.
func issuerAt(secret []byte, now time.Time) *TokenIssuer {
	t := NewTokenIssuer(secret, time.Hour)
	t.now = func() time.Time { return now }
	return t
}

func TestTokenRoundTrip(t *testing.T) {
	iss := issuerAt(testSecret, testNow.Add(500*time.Millisecond))
	for _, tc := range []struct {
		role      Role
		tokenType string
	}{
		{RoleUser, TokenTypeAccess},
		{RoleSystem, TokenTypeAccess},
		{RoleDBA, TokenTypeRefresh},
	} {
		t.Run(string(tc.role)+"/"+tc.tokenType, func(t *testing.T) {
			tok, exp, err := iss.Issue("alice", tc.role, tc.tokenType)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if want := testNow.Add(time.Hour); !exp.Equal(want) {
				t.Errorf("expiresAt = %v, want %v", exp, want)
			}
			got, err := iss.Verify(tok, tc.tokenType)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := Claims{Subject: "alice", Role: tc.role, TokenType: tc.tokenType, IssuedAt: testNow, ExpiresAt: exp}
			if got.Subject != want.Subject || got.Role != want.Role || got.TokenType != want.TokenType ||
				!got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
				t.Errorf("Verify = %+v, want %+v", got, want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	iss := issuerAt(testSecret, testNow)
	valid, _, err := iss.Issue("alice", RoleUser, TokenTypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	refresh, _, err := iss.Issue("alice", RoleUser, TokenTypeRefresh)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		token    string
		verifier *TokenIssuer
	}{
		{"expired", valid, issuerAt(testSecret, testNow.Add(time.Hour+61*time.Second))},
		{"issued in the future", valid, issuerAt(testSecret, testNow.Add(-61*time.Second))},
		{"wrong secret", valid, issuerAt([]byte(strings.Repeat("x", SecretSize)), testNow)},
		{"refresh used as access", refresh, iss},
		{"tampered payload", tamper(t, valid), iss},
		{"alg none", signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsAt(testNow)), iss},
		{"alg RS256", signed(t, jwt.SigningMethodRS256, rsaKey, claimsAt(testNow)), iss},
		{"alg HS512", signed(t, jwt.SigningMethodHS512, testSecret, claimsAt(testNow)), iss},
		{"wrong issuer", signed(t, jwt.SigningMethodHS256, testSecret, withIssuer(claimsAt(testNow), "evil")), iss},
		{"missing exp", signed(t, jwt.SigningMethodHS256, testSecret, withoutExp(claimsAt(testNow))), iss},
		{"missing iat", signed(t, jwt.SigningMethodHS256, testSecret, withoutIat(claimsAt(testNow))), iss},
		{"unknown role", signed(t, jwt.SigningMethodHS256, testSecret, withRole(claimsAt(testNow), "admin")), iss},
		{"garbage", "not.a.token", iss},
		{"empty", "", iss},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.verifier.Verify(tc.token, TokenTypeAccess)
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Verify error = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestVerifyWithinLeeway(t *testing.T) {
	tok, _, err := issuerAt(testSecret, testNow).Issue("alice", RoleUser, TokenTypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{testNow.Add(time.Hour + 59*time.Second), testNow.Add(-59 * time.Second)} {
		if _, err := issuerAt(testSecret, at).Verify(tok, TokenTypeAccess); err != nil {
			t.Errorf("Verify at %v: %v, want success within leeway", at, err)
		}
	}
}

func TestIssueErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		issuer    *TokenIssuer
		sub       string
		role      Role
		tokenType string
	}{
		{"short secret", NewTokenIssuer([]byte("short"), time.Hour), "alice", RoleUser, TokenTypeAccess},
		{"zero expiry", NewTokenIssuer(testSecret, 0), "alice", RoleUser, TokenTypeAccess},
		{"empty subject", NewTokenIssuer(testSecret, time.Hour), "", RoleUser, TokenTypeAccess},
		{"alias role", NewTokenIssuer(testSecret, time.Hour), "alice", Role("admin"), TokenTypeAccess},
		{"bad token type", NewTokenIssuer(testSecret, time.Hour), "alice", RoleUser, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := tc.issuer.Issue(tc.sub, tc.role, tc.tokenType); err == nil {
				t.Error("Issue succeeded, want error")
			}
		})
	}
}

func TestNewTokenIssuerCopiesSecret(t *testing.T) {
	secret := []byte(strings.Repeat("s", SecretSize))
	iss := issuerAt(secret, testNow)
	tok, _, err := iss.Issue("alice", RoleUser, TokenTypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	secret[0] = 'X'
	if _, err := iss.Verify(tok, TokenTypeAccess); err != nil {
		t.Errorf("Verify after caller mutated secret: %v", err)
	}
}

func TestGenerateSecret(t *testing.T) {
	a, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretSize || string(a) == string(b) {
		t.Errorf("GenerateSecret returned %d bytes, equal=%v; want %d distinct bytes", len(a), string(a) == string(b), SecretSize)
	}
}

// claimsAt returns valid access-token claims for alice issued at now.
func claimsAt(now time.Time) jwtClaims {
	return jwtClaims{
		Role:      RoleUser,
		TokenType: TokenTypeAccess,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   "alice",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
	}
}

func withIssuer(c jwtClaims, iss string) jwtClaims { c.Issuer = iss; return c }
func withoutExp(c jwtClaims) jwtClaims             { c.ExpiresAt = nil; return c }
func withoutIat(c jwtClaims) jwtClaims             { c.IssuedAt = nil; return c }
func withRole(c jwtClaims, r Role) jwtClaims       { c.Role = r; return c }

func signed(t *testing.T, m jwt.SigningMethod, key any, c jwtClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamper swaps the payload for one claiming the system role while keeping
// the original signature.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(payload), `"role":"user"`, `"role":"system"`, 1)
	if forged == string(payload) {
		t.Fatalf("payload %s has no user role to tamper with", payload)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	return strings.Join(parts, ".")
}

// TestVerifyCache checks that a cached verification answers exactly like
// the parser: the clock-dependent checks are redone on every hit, and a
// cached token vouches for no other string.
func TestVerifyCache(t *testing.T) {
	now := testNow
	iss := NewTokenIssuer(testSecret, time.Hour)
	iss.now = func() time.Time { return now }
	tok, exp, err := iss.Issue("alice", RoleUser, TokenTypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	first, err := iss.Verify(tok, TokenTypeAccess)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := iss.verified[tok]; !ok {
		t.Fatal("a successful verification was not cached")
	}
	again, err := iss.Verify(tok, TokenTypeAccess)
	if err != nil || again != first {
		t.Fatalf("cached Verify = %+v, %v; want %+v", again, err, first)
	}
	if _, err := iss.Verify(tok, TokenTypeRefresh); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("cached token verified as the wrong type: err = %v", err)
	}
	// A different string (tampered signature) is never answered from the
	// cache entry of the original.
	tampered := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	if _, err := iss.Verify(tampered, TokenTypeAccess); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("tampered token: err = %v, want ErrInvalidToken", err)
	}
	// Within the leeway after expiry: still valid; past it: expired, and
	// the entry is gone.
	now = exp.Add(59 * time.Second)
	if _, err := iss.Verify(tok, TokenTypeAccess); err != nil {
		t.Errorf("within leeway: %v", err)
	}
	now = exp.Add(61 * time.Second)
	if _, err := iss.Verify(tok, TokenTypeAccess); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("past expiry: err = %v, want ErrTokenExpired", err)
	}
	if _, ok := iss.verified[tok]; ok {
		t.Error("an expired token stayed in the cache")
	}
	// The cache is bounded.
	now = testNow
	for i := range verifiedMax + 10 {
		tk, _, err := iss.Issue("u"+strings.Repeat("x", i%7)+string(rune('a'+i%26)), RoleUser, TokenTypeAccess)
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Millisecond) // distinct iat_ms, distinct tokens
		if _, err := iss.Verify(tk, TokenTypeAccess); err != nil {
			t.Fatal(err)
		}
		if len(iss.verified) > verifiedMax {
			t.Fatalf("cache holds %d entries, bound %d", len(iss.verified), verifiedMax)
		}
	}
}
