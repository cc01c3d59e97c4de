package replication

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"slices"
)

// Mutual TLS on the Raft transport. dragonboat does the TLS itself
// (NodeHostConfig.MutualTLS): the listener requires and verifies a client
// certificate signed by CAFile, and a dialling replica verifies the peer's
// certificate against CAFile and the host of the peer's Raft address.
// Reloading: dragonboat reads the files when the transport starts (the
// listener's certificate and CA are fixed until the process restarts) and
// again on every outgoing connection (the client side picks up renewed
// files at its next reconnect). A renewed certificate therefore takes
// effect for both directions at the next restart; renew it under the same
// CA so old and new replicas keep trusting each other meanwhile.

// TLSFiles names the PEM files of mutual TLS between replicas. All empty:
// plaintext.
type TLSFiles struct {
	CAFile, CertFile, KeyFile string
}

// Enabled reports whether mutual TLS is configured.
func (f TLSFiles) Enabled() bool { return f.CAFile != "" || f.CertFile != "" || f.KeyFile != "" }

// Check loads the files once at start-up so a wrong file fails the start
// with its name and reason, instead of every connection failing later:
// the pair must match, the certificate must chain to the CA, be usable
// for server and client authentication, and name raftAddress's host
// (which the other replicas verify when they dial it).
func (f TLSFiles) Check(raftAddress string) error {
	if !f.Enabled() {
		return nil
	}
	if f.CAFile == "" || f.CertFile == "" || f.KeyFile == "" {
		return fmt.Errorf("cluster.tls: ca_file, cert_file and key_file must be set together")
	}
	pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return fmt.Errorf("cluster.tls: while loading %s and %s: %w", f.CertFile, f.KeyFile, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("cluster.tls: %s: %w", f.CertFile, err)
	}
	caPEM, err := os.ReadFile(f.CAFile)
	if err != nil {
		return fmt.Errorf("cluster.tls: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("cluster.tls: %s holds no PEM certificate", f.CAFile)
	}
	inter := x509.NewCertPool()
	for _, der := range pair.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			return fmt.Errorf("cluster.tls: %s is not verified by %s for %s (a replica's certificate serves both as server and as client): %w", f.CertFile, f.CAFile, usageName(usage), err)
		}
	}
	host, _, err := net.SplitHostPort(raftAddress)
	if err != nil {
		return fmt.Errorf("cluster.raft_address %q: %w", raftAddress, err)
	}
	if err := leaf.VerifyHostname(host); err != nil {
		names := slices.Clone(leaf.DNSNames)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		return fmt.Errorf("cluster.tls: %s does not name this replica's raft_address host %q (it names %v); peers verify it when they dial", f.CertFile, host, names)
	}
	return nil
}

func usageName(u x509.ExtKeyUsage) string {
	if u == x509.ExtKeyUsageClientAuth {
		return "client authentication"
	}
	return "server authentication"
}
