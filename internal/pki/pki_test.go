package pki

import (
	"crypto/x509"
	"net"
	"testing"
	"time"
)

// TestIssueServerVerifies: a server certificate verifies against its CA
// for each of its names, not for another name, and not against another CA.
func TestIssueServerVerifies(t *testing.T) {
	now := time.Now()
	ca, err := NewCA("kalam CA", now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA || ca.Cert.NotBefore.After(now) {
		t.Fatalf("CA: isCA=%v notBefore=%v", ca.Cert.IsCA, ca.Cert.NotBefore)
	}
	srv, err := ca.IssueServer("kalam", []string{"kalam.db.svc", "*.kalam-headless.db.svc"}, []net.IP{net.ParseIP("127.0.0.1")}, now, 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !srv.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("server certificate outlives its CA: %v > %v", srv.Cert.NotAfter, ca.Cert.NotAfter)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, name := range []string{"kalam.db.svc", "kalam-0.kalam-headless.db.svc", "127.0.0.1"} {
		if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: "other.db.svc", Roots: pool}); err == nil {
		t.Error("verified for a name it does not carry")
	}
	other, _ := NewCA("other", now, time.Hour)
	otherPool := x509.NewCertPool()
	otherPool.AddCert(other.Cert)
	if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: "kalam.db.svc", Roots: otherPool}); err == nil {
		t.Error("verified against another CA")
	}
}

// TestParseRoundTrip: what IssueServer writes, ParsePair reads back; a
// certificate with another key, or no PEM at all, is refused.
func TestParseRoundTrip(t *testing.T) {
	now := time.Now()
	ca, _ := NewCA("ca", now, time.Hour)
	a, _ := ca.IssueServer("a", []string{"a"}, nil, now, time.Hour)
	b, _ := ca.IssueServer("b", []string{"b"}, nil, now, time.Hour)
	got, err := ParsePair(a.CertPEM, a.KeyPEM)
	if err != nil || got.Cert.SerialNumber.Cmp(a.Cert.SerialNumber) != 0 {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := ParsePair(a.CertPEM, b.KeyPEM); err == nil {
		t.Error("a certificate with another key accepted")
	}
	if _, err := ParseCerts([]byte("not pem")); err == nil {
		t.Error("a bundle without certificates accepted")
	}
	certs, err := ParseCerts(append(append([]byte{}, a.CertPEM...), ca.CertPEM...))
	if err != nil || len(certs) != 2 {
		t.Fatalf("bundle: %d certificates, %v", len(certs), err)
	}
}

// FuzzClientTLS: whatever a user puts in a Secret's tls.crt and ca.crt,
// building the client configuration never panics, and an accepted one
// always has roots and a server name to verify.
func FuzzClientTLS(f *testing.F) {
	now := time.Now()
	ca, _ := NewCA("ca", now, time.Hour)
	srv, _ := ca.IssueServer("s", []string{"s.ns.svc"}, nil, now, time.Hour)
	ipOnly, _ := ca.IssueServer("ip", nil, []net.IP{net.ParseIP("10.0.0.1")}, now, time.Hour)
	f.Add(srv.CertPEM, ca.CertPEM)
	f.Add(srv.CertPEM, []byte(nil))
	f.Add(ipOnly.CertPEM, ca.CertPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), []byte("junk"))
	f.Fuzz(func(t *testing.T, certPEM, caPEM []byte) {
		cfg, err := ClientTLS(certPEM, caPEM, "s.ns.svc")
		if err == nil && (cfg.RootCAs == nil || cfg.ServerName == "") {
			t.Fatalf("accepted without roots or server name: %+v", cfg)
		}
	})
}
