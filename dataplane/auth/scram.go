package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ScramIterations is the PBKDF2 iteration count of new SCRAM-SHA-256
// verifiers (PostgreSQL's default).
const ScramIterations = 4096

// ScramVerifier is a stored SCRAM-SHA-256 credential (RFC 5802/7677): what
// the server keeps instead of the password. Its text form is PostgreSQL's:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
type ScramVerifier struct {
	Iterations           int
	Salt                 []byte
	StoredKey, ServerKey []byte
}

// NewScramVerifier derives a verifier for password with a random salt.
func NewScramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: while generating a SCRAM salt: %w", err)
	}
	v, err := deriveScram(password, salt, ScramIterations)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func deriveScram(password string, salt []byte, iter int) (ScramVerifier, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		return ScramVerifier{}, fmt.Errorf("auth: while deriving a SCRAM key: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return ScramVerifier{Iterations: iter, Salt: salt, StoredKey: stored[:], ServerKey: hmacSHA256(salted, "Server Key")}, nil
}

// String renders v in PostgreSQL's rolpassword form.
func (v ScramVerifier) String() string {
	b := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", v.Iterations, b(v.Salt), b(v.StoredKey), b(v.ServerKey))
}

// ParseScramVerifier parses the text form of a verifier.
func ParseScramVerifier(s string) (ScramVerifier, error) {
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return ScramVerifier{}, errors.New("auth: not a SCRAM-SHA-256 verifier")
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return ScramVerifier{}, errors.New("auth: malformed SCRAM verifier")
	}
	iterS, saltS, ok1 := strings.Cut(params, ":")
	storedS, serverS, ok2 := strings.Cut(keys, ":")
	iter, err := strconv.Atoi(iterS)
	if !ok1 || !ok2 || err != nil || iter < 1 {
		return ScramVerifier{}, errors.New("auth: malformed SCRAM verifier")
	}
	d := base64.StdEncoding.DecodeString
	salt, e1 := d(saltS)
	stored, e2 := d(storedS)
	server, e3 := d(serverS)
	if e1 != nil || e2 != nil || e3 != nil || len(stored) != sha256.Size || len(server) != sha256.Size {
		return ScramVerifier{}, errors.New("auth: malformed SCRAM verifier")
	}
	return ScramVerifier{Iterations: iter, Salt: salt, StoredKey: stored, ServerKey: server}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// ErrScramProtocol is a malformed SCRAM message from the client.
var ErrScramProtocol = errors.New("malformed SCRAM-SHA-256 message")

// ScramServer runs the server side of one SCRAM-SHA-256 exchange (no channel
// binding): First answers the client-first-message, Final checks the
// client proof and returns the server-final-message.
type ScramServer struct {
	v                          ScramVerifier
	clientFirstBare, serverMsg string
	nonce                      string
}

// NewScramServer starts an exchange against verifier v.
func NewScramServer(v ScramVerifier) *ScramServer { return &ScramServer{v: v} }

// First parses client-first-message and returns server-first-message.
func (s *ScramServer) First(clientFirst string) (string, error) {
	// gs2-header: "n,," or "y,," (no channel binding); "p=" is refused.
	if !strings.HasPrefix(clientFirst, "n,") && !strings.HasPrefix(clientFirst, "y,") {
		return "", ErrScramProtocol
	}
	i := strings.Index(clientFirst[2:], ",")
	if i < 0 {
		return "", ErrScramProtocol
	}
	bare := clientFirst[2+i+1:]
	var cnonce string
	for _, attr := range strings.Split(bare, ",") {
		if v, ok := strings.CutPrefix(attr, "r="); ok {
			cnonce = v
		}
	}
	if cnonce == "" {
		return "", ErrScramProtocol
	}
	buf := make([]byte, 18)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s.clientFirstBare = bare
	s.nonce = cnonce + base64.StdEncoding.EncodeToString(buf)
	s.serverMsg = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(s.v.Salt), s.v.Iterations)
	return s.serverMsg, nil
}

// Final checks client-final-message. ok=false means a wrong password;
// err is a protocol violation.
func (s *ScramServer) Final(clientFinal string) (serverFinal string, ok bool, err error) {
	i := strings.LastIndex(clientFinal, ",p=")
	if i < 0 {
		return "", false, ErrScramProtocol
	}
	withoutProof := clientFinal[:i]
	proof, err := base64.StdEncoding.DecodeString(clientFinal[i+3:])
	if err != nil || len(proof) != sha256.Size {
		return "", false, ErrScramProtocol
	}
	var nonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		if v, ok := strings.CutPrefix(attr, "r="); ok {
			nonce = v
		}
	}
	if nonce != s.nonce {
		return "", false, ErrScramProtocol
	}
	authMsg := s.clientFirstBare + "," + s.serverMsg + "," + withoutProof
	sig := hmacSHA256(s.v.StoredKey, authMsg)
	clientKey := make([]byte, len(proof))
	for j := range proof {
		clientKey[j] = proof[j] ^ sig[j]
	}
	sum := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(sum[:], s.v.StoredKey) != 1 {
		return "", false, nil
	}
	return "v=" + base64.StdEncoding.EncodeToString(hmacSHA256(s.v.ServerKey, authMsg)), true, nil
}
