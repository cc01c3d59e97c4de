package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
)

// TestSecurityTLS serves the API over TLS with a certificate generated
// here; a client trusting it works, plain HTTP does not.
func TestSecurityTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	n := startNodeWith(t, func(c *config.Config) { c.Security.TLS = config.TLSConfig{CertFile: certFile, KeyFile: keyFile} })
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := client.New("https://" + n.Addr())
	c.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := c.Login(ctx(t), "root", rootPW); err != nil {
		t.Fatalf("login over TLS: %v", err)
	}
	mustSQL(t, c, `SELECT 1`)
	plain := client.New("http://" + n.Addr())
	if _, err := plain.Login(ctx(t), "root", rootPW); err == nil {
		t.Fatal("plain HTTP accepted on a TLS listener")
	}
}

// TestSecurityOIDC trusts an issuer whose JWKS is served by a local
// httptest server: RS256 and ES256 tokens for an existing user work with
// that user's stored role; wrong audience, issuer, key or algorithm fail.
func TestSecurityOIDC(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "r1", "use": "sig", "n": b64.EncodeToString(rsaKey.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(rsaKey.E)).Bytes())},
		{"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64.EncodeToString(ecKey.X.FillBytes(make([]byte, 32))), "y": b64.EncodeToString(ecKey.Y.FillBytes(make([]byte, 32)))},
	}})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(jwks) }))
	defer idp.Close()
	const iss = "https://idp.test/realms/kalam"
	f := newSecFixture(t, func(c *config.Config) {
		c.Auth.OIDCIssuers = []config.OIDCIssuer{{Issuer: iss, Audience: "kalamdb", JWKSURL: idp.URL + "/certs"}}
	})
	now := time.Now()
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": iss, "sub": "alice", "aud": "kalamdb", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "role": "system"}
		if mut != nil {
			mut(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tok := range map[string]string{
		"RS256": sign(jwt.SigningMethodRS256, "r1", rsaKey, claims(nil)),
		"ES256": sign(jwt.SigningMethodES256, "e1", ecKey, claims(nil)),
	} {
		c := client.New("http://" + f.n.Addr())
		c.Token = tok
		// alice's own rows; the token's role claim (system) is ignored.
		if got := fmt.Sprint(mustRows(t, c, `SELECT id, body FROM app.notes ORDER BY id`)); got != f.aliceNotes {
			t.Fatalf("%s: %s", name, got)
		}
		wantCode(t, c, "PERMISSION_DENIED", 403, `SELECT * FROM app.vault`)
	}
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, tok := range map[string]string{
		"wrong audience":  sign(jwt.SigningMethodRS256, "r1", rsaKey, claims(func(c jwt.MapClaims) { c["aud"] = "other" })),
		"untrusted iss":   sign(jwt.SigningMethodRS256, "r1", rsaKey, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })),
		"wrong key":       sign(jwt.SigningMethodRS256, "r1", otherRSA, claims(nil)),
		"unknown kid":     sign(jwt.SigningMethodRS256, "zz", otherRSA, claims(nil)),
		"expired":         sign(jwt.SigningMethodRS256, "r1", rsaKey, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"unknown user":    sign(jwt.SigningMethodRS256, "r1", rsaKey, claims(func(c jwt.MapClaims) { c["sub"] = "ghost" })),
		"HS256 as issuer": sign(jwt.SigningMethodHS256, "r1", []byte(testJWTSecret), claims(nil)),
		"alg none":        sign(jwt.SigningMethodNone, "r1", jwt.UnsafeAllowNoneSignatureType, claims(nil)),
	} {
		c := client.New("http://" + f.n.Addr())
		c.Token = tok
		want := "INVALID_CREDENTIALS"
		if name == "expired" {
			want = "TOKEN_EXPIRED"
		}
		wantCode(t, c, want, 401, `DELETE FROM app.notes WHERE id > 0`)
	}
	f.intact(t)
}
