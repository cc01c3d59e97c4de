package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// cliTLSConfig trusts the PEM bundle at caFile (the system roots when
// empty) and verifies the server as serverName when set: a cluster's CA
// from its <cluster>-ca Secret, reached through a port-forward whose
// 127.0.0.1 is not a name in the certificate.
func cliTLSConfig(caFile, serverName string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cacert: %s holds no PEM certificate", caFile)
	}
	tc.RootCAs = pool
	return tc, nil
}
