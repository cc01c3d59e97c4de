package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// CertReloader serves a certificate and key from PEM files and re-reads
// them when either file changes, so a rotated certificate (a Kubernetes
// Secret volume swaps its files in place; cert-manager renews them) is used
// by the next TLS handshake without a restart.
//
// Every handshake stats both files (two syscalls, negligible next to the
// handshake itself); a change of identity, size or modification time loads
// the pair again. A pair that does not load (the certificate was replaced
// but the key not yet, a truncated file) keeps the previous certificate
// and is retried at the next handshake: a rotation in progress never takes
// the listener down.
type CertReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu            sync.Mutex
	cert          *tls.Certificate
	certFI, keyFI os.FileInfo
	reloads       int
	lastErr       string
}

// NewCertReloader loads certFile and keyFile once; a pair that does not
// load is an error (the server must not start without its certificate).
func NewCertReloader(certFile, keyFile string, log *slog.Logger) (*CertReloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile, log: log}
	cfi, kfi, err := r.stat()
	if err != nil {
		return nil, err
	}
	if err := r.load(cfi, kfi); err != nil {
		return nil, err
	}
	return r, nil
}

// TLSConfig is a server configuration (TLS 1.2+) whose certificate comes
// from the reloader.
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

// GetCertificate implements tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfi, kfi, err := r.stat()
	if err == nil && (changed(r.certFI, cfi) || changed(r.keyFI, kfi)) {
		err = r.loadLocked(cfi, kfi)
	}
	if err != nil && err.Error() != r.lastErr {
		// Logged once per distinct failure, not per handshake.
		r.lastErr = err.Error()
		r.log.Warn("keeping the previous TLS certificate", "err", err)
	}
	return r.cert, nil
}

// Reloads is how many times a changed certificate was loaded (tests,
// metrics).
func (r *CertReloader) Reloads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloads
}

func (r *CertReloader) stat() (os.FileInfo, os.FileInfo, error) {
	cfi, err := os.Stat(r.certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("while reading the TLS certificate: %w", err)
	}
	kfi, err := os.Stat(r.keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("while reading the TLS key: %w", err)
	}
	return cfi, kfi, nil
}

func (r *CertReloader) load(cfi, kfi os.FileInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loadLocked(cfi, kfi)
}

func (r *CertReloader) loadLocked(cfi, kfi os.FileInfo) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("while loading the TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	if r.cert != nil {
		r.reloads++
		r.log.Info("reloaded the TLS certificate", "cert_file", r.certFile)
	}
	r.cert, r.certFI, r.keyFI, r.lastErr = &cert, cfi, kfi, ""
	return nil
}

// changed reports a file replaced (another inode: an atomic rename or a
// Secret volume's symlink swap) or rewritten in place.
func changed(old, cur os.FileInfo) bool {
	return old == nil || !os.SameFile(old, cur) || old.Size() != cur.Size() || !old.ModTime().Equal(cur.ModTime())
}
