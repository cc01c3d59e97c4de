package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TrustedIssuer is an external OIDC issuer whose tokens are accepted.
type TrustedIssuer struct {
	// Issuer must equal the token's iss claim.
	Issuer string
	// Audience, when set, must be in the token's aud claim.
	Audience string
	// JWKSURL or JWKSFile holds the issuer's public keys (exactly one).
	JWKSURL  string
	JWKSFile string
}

// jwksRefetchInterval bounds how often an unknown kid may trigger a JWKS
// fetch, so forged kids cannot turn the server into a request amplifier.
const jwksRefetchInterval = 30 * time.Second

// maxJWKSBytes bounds a fetched key set.
const maxJWKSBytes = 1 << 20

// ExternalVerifier verifies RS256/ES256 tokens from trusted issuers. Keys
// are loaded on first use and re-fetched (at most every 30 s) when a token
// names an unknown kid, which is how key rotation is picked up.
type ExternalVerifier struct {
	issuers map[string]*issuerKeys
	client  *http.Client
	now     func() time.Time
}

type issuerKeys struct {
	cfg       TrustedIssuer
	mu        sync.Mutex
	keys      map[string]crypto.PublicKey
	fetchedAt time.Time
}

// NewExternalVerifier returns a verifier for issuers (nil when empty).
func NewExternalVerifier(issuers []TrustedIssuer) *ExternalVerifier {
	if len(issuers) == 0 {
		return nil
	}
	v := &ExternalVerifier{issuers: map[string]*issuerKeys{}, client: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
	for _, i := range issuers {
		v.issuers[i.Issuer] = &issuerKeys{cfg: i}
	}
	return v
}

// Handles reports whether token claims a trusted external issuer (by its
// unverified iss); only those are routed to Verify.
func (v *ExternalVerifier) Handles(token string) bool {
	if v == nil {
		return false
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return false
	}
	_, ok := v.issuers[c.Issuer]
	return ok
}

// Verify checks an external token: RS256 or ES256 only (never HS*, so the
// public key cannot be used as an HMAC secret, never "none"), a trusted
// issuer, the audience when configured, exp (required), nbf and iat with
// the same leeway as our own tokens, and a sub. The returned claims have
// no role: the caller applies the stored user's role.
func (v *ExternalVerifier) Verify(token string) (Claims, error) {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	iss, ok := v.issuers[c.Issuer]
	if !ok {
		return Claims{}, fmt.Errorf("%w: untrusted issuer", ErrInvalidToken)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"RS256", "ES256"}),
		jwt.WithIssuer(iss.cfg.Issuer),
		jwt.WithLeeway(leeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
	}
	if iss.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(iss.cfg.Audience))
	}
	var out jwt.RegisteredClaims
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, &out, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(iss, kid)
	})
	if err != nil {
		return Claims{}, verifyErr(err)
	}
	if out.Subject == "" {
		return Claims{}, fmt.Errorf("%w: missing sub claim", ErrInvalidToken)
	}
	cl := Claims{Subject: out.Subject, TokenType: TokenTypeAccess, ExpiresAt: out.ExpiresAt.Time}
	if out.IssuedAt != nil {
		cl.IssuedAt, cl.IssuedAtMs = out.IssuedAt.Time, out.IssuedAt.UnixMilli()
	}
	// Without iat, IssuedAtMs stays 0: any revocation (logout) covers it.
	return cl, nil
}

// key returns the issuer's key kid, (re)loading the key set when kid is
// unknown and the last load is old enough.
func (v *ExternalVerifier) key(iss *issuerKeys, kid string) (crypto.PublicKey, error) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if k, ok := iss.keys[kid]; ok {
		return k, nil
	}
	if iss.keys != nil && v.now().Sub(iss.fetchedAt) < jwksRefetchInterval {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	keys, err := v.load(iss.cfg)
	iss.fetchedAt = v.now()
	if err != nil {
		return nil, err
	}
	iss.keys = keys
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	if kid == "" && len(keys) == 1 {
		for _, k := range keys {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

func (v *ExternalVerifier) load(cfg TrustedIssuer) (map[string]crypto.PublicKey, error) {
	var data []byte
	var err error
	if cfg.JWKSFile != "" {
		data, err = os.ReadFile(cfg.JWKSFile)
	} else {
		data, err = v.fetch(cfg.JWKSURL)
	}
	if err != nil {
		return nil, fmt.Errorf("while loading the JWKS of %s: %w", cfg.Issuer, err)
	}
	return ParseJWKS(data)
}

func (v *ExternalVerifier) fetch(url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
}

// ParseJWKS parses a JSON Web Key Set, keeping RSA and EC P-256 signing keys
// by kid. Keys of other types or uses are skipped.
func ParseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("malformed JWKS: %w", err)
	}
	out := map[string]crypto.PublicKey{}
	b64 := base64.RawURLEncoding
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		switch strings.ToUpper(k.Kty) {
		case "RSA":
			n, err1 := b64.DecodeString(k.N)
			e, err2 := b64.DecodeString(k.E)
			if err1 != nil || err2 != nil || len(e) > 4 || len(n) < 256 {
				continue // malformed or under 2048 bits
			}
			out[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		case "EC":
			if k.Crv != "P-256" {
				continue
			}
			x, err1 := b64.DecodeString(k.X)
			y, err2 := b64.DecodeString(k.Y)
			if err1 != nil || err2 != nil {
				continue
			}
			pk := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
			if !pk.Curve.IsOnCurve(pk.X, pk.Y) { //nolint:staticcheck // validates untrusted input
				continue
			}
			out[k.Kid] = pk
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS holds no usable RSA or P-256 signing key")
	}
	return out, nil
}
