// Package pki creates and parses the certificates of a KalamCluster's TLS:
// a self-signed CA and server certificates it signs (ECDSA P-256, PEM,
// PKCS#8 keys: the shape of a kubernetes.io/tls Secret). It uses only the
// standard library and holds no state; the operator builds its Secrets
// from it and tests issue throwaway certificates with it.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// KeyPair is a certificate with its private key, parsed and as PEM.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// clockSkew back-dates NotBefore so a peer whose clock is slightly behind
// accepts a certificate issued a moment ago.
const clockSkew = 5 * time.Minute

// NewCA returns a self-signed CA valid from now for validity.
func NewCA(commonName string, now time.Time, validity time.Duration) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("while generating the CA key: %w", err)
	}
	tmpl, err := template(commonName, now, validity)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	return sign(tmpl, tmpl, key, key)
}

// IssueServer returns a server certificate for dnsNames and ips signed by
// ca, valid from now for validity (never beyond the CA's own expiry).
func (ca *KeyPair) IssueServer(commonName string, dnsNames []string, ips []net.IP, now time.Time, validity time.Duration) (*KeyPair, error) {
	return ca.issue(commonName, dnsNames, ips, now, validity, x509.ExtKeyUsageServerAuth)
}

// IssuePeer is IssueServer for a certificate that serves both as server
// and as client (mutual TLS between replicas on the Raft port).
func (ca *KeyPair) IssuePeer(commonName string, dnsNames []string, ips []net.IP, now time.Time, validity time.Duration) (*KeyPair, error) {
	return ca.issue(commonName, dnsNames, ips, now, validity, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

func (ca *KeyPair) issue(commonName string, dnsNames []string, ips []net.IP, now time.Time, validity time.Duration, usages ...x509.ExtKeyUsage) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("while generating the certificate key: %w", err)
	}
	tmpl, err := template(commonName, now, validity)
	if err != nil {
		return nil, err
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.DNSNames, tmpl.IPAddresses = dnsNames, ips
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = usages
	return sign(tmpl, ca.Cert, key, ca.Key)
}

func template(commonName string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("while generating a serial number: %w", err)
	}
	return &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: commonName, Organization: []string{"KalamDB operator"}},
		NotBefore: now.Add(-clockSkew), NotAfter: now.Add(validity),
	}, nil
}

func sign(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, parentKey crypto.Signer) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, fmt.Errorf("while signing the certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{
		Cert: cert, Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}),
	}, nil
}

// ParsePair parses a PEM certificate (the first of a chain is the leaf)
// and its private key, and checks that they belong together.
func ParsePair(certPEM, keyPEM []byte) (*KeyPair, error) {
	tc, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	signer, ok := tc.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("the private key cannot sign")
	}
	return &KeyPair{Cert: tc.Leaf, Key: signer, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// ParseCerts parses every CERTIFICATE block of a PEM bundle; a bundle
// without one is an error.
func ParseCerts(bundle []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// ClientTLS is how a client verifies a server that serves certPEM (a
// kubernetes.io/tls Secret's tls.crt) when it trusts caPEM (its ca.crt).
// Without caPEM (a public issuer) it trusts the system roots plus the
// certificate chain itself. The server name is name when the certificate
// carries it, else the certificate's first DNS name (or IP address): the
// client may dial an address (a pod IP, a port-forward) that is not among
// the certificate's names.
func ClientTLS(certPEM, caPEM []byte, name string) (*tls.Config, error) {
	chain, err := ParseCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("tls.crt: %w", err)
	}
	var roots *x509.CertPool
	if len(caPEM) > 0 {
		cas, err := ParseCerts(caPEM)
		if err != nil {
			return nil, fmt.Errorf("ca.crt: %w", err)
		}
		roots = x509.NewCertPool()
		for _, c := range cas {
			roots.AddCert(c)
		}
	} else {
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
		for _, c := range chain {
			roots.AddCert(c)
		}
	}
	if leaf := chain[0]; leaf.VerifyHostname(name) != nil {
		switch {
		case len(leaf.DNSNames) > 0:
			name = strings.TrimPrefix(leaf.DNSNames[0], "*.")
		case len(leaf.IPAddresses) > 0:
			name = leaf.IPAddresses[0].String()
		default:
			return nil, errors.New("the certificate has no DNS name or IP address to verify")
		}
	}
	return &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12}, nil
}
