package node

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	"github.com/kalamdb/kalamdb-k8s/internal/pki"
)

// TestSecurityTLSRotation serves HTTPS, WSS and PostgreSQL-over-TLS from
// one certificate, replaces the certificate files under the running node
// (as a Secret volume does on rotation) and checks that new connections
// get the new certificate on every listener while a connection opened
// before the rotation keeps working: no restart, no downtime.
func TestSecurityTLSRotation(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca, err := pki.NewCA("test CA", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		kp, err := ca.IssueServer("kalam", []string{"kalam.test"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for f, b := range map[string][]byte{certFile: kp.CertPEM, keyFile: kp.KeyPEM} {
			if err := os.WriteFile(f+".tmp", b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(f+".tmp", f); err != nil {
				t.Fatal(err)
			}
		}
		return kp.Cert.SerialNumber.String()
	}
	first := issue()
	n := startNodeWith(t, func(c *config.Config) {
		c.Security.TLS = config.TLSConfig{CertFile: certFile, KeyFile: keyFile}
		c.PostgresWire.Enabled, c.PostgresWire.Port = true, 0
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	tlsConf := &tls.Config{RootCAs: pool, ServerName: "kalam.test"}

	// A long-lived HTTPS session and WebSocket opened before the rotation.
	old := client.New("https://" + n.Addr())
	old.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	if _, err := old.Login(ctx(t), "root", rootPW); err != nil {
		t.Fatalf("login over TLS: %v", err)
	}
	ws := dialURL(t, "wss://"+n.Addr()+"/v1/ws?compress=false", &websocket.DialOptions{HTTPClient: old.HTTP})
	ws.send(map[string]any{"type": "authenticate", "method": "jwt", "token": old.Token,
		"protocol": map[string]string{"serialization": "json", "compression": "none"}})
	if m := ws.recv(); m.Type != "auth_success" {
		t.Fatalf("WSS: want auth_success, got %s", m.raw)
	}

	// served returns the serial each listener presents to a new connection.
	served := func() (httpsSerial, pgSerial string) {
		t.Helper()
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf, DisableKeepAlives: true}}
		resp, err := hc.Get("https://" + n.Addr() + "/healthz")
		if err != nil {
			t.Fatalf("HTTPS: %v", err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.String(), pgTLSSerial(t, n.PostgresAddr(), tlsConf)
	}
	if h, p := served(); h != first || p != first {
		t.Fatalf("before rotation: HTTPS serves %s, PostgreSQL %s, want %s", h, p, first)
	}
	second := issue()
	if h, p := served(); h != second || p != second {
		t.Fatalf("after rotation: HTTPS serves %s, PostgreSQL %s, want %s", h, p, second)
	}
	mustSQL(t, old, `SELECT 1`)
	ws.send(map[string]any{"type": "ping"})
	select {
	case <-ws.done:
		t.Fatalf("the WebSocket opened before the rotation was closed: %v", ws.err)
	case <-time.After(100 * time.Millisecond):
	}
}

// pgTLSSerial sends a PostgreSQL SSLRequest, performs the TLS handshake the
// server accepts, and returns the serial of the certificate it presented.
func pgTLSSerial(t *testing.T, addr string, conf *tls.Config) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := make([]byte, 8)
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], 80877103)
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	ans := make([]byte, 1)
	if _, err := io.ReadFull(nc, ans); err != nil || ans[0] != 'S' {
		t.Fatalf("SSLRequest answered %q, %v", ans, err)
	}
	tc := tls.Client(nc, conf)
	if err := tc.Handshake(); err != nil {
		t.Fatalf("PostgreSQL TLS handshake: %v", err)
	}
	return tc.ConnectionState().PeerCertificates[0].SerialNumber.String()
}
