package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kalamdb/kalamdb-k8s/dataplane/auth"
	"github.com/kalamdb/kalamdb-k8s/dataplane/client"
	"github.com/kalamdb/kalamdb-k8s/dataplane/config"
	kalamsql "github.com/kalamdb/kalamdb-k8s/dataplane/sql"
)

// kalamdb step-down: the preStop hook of a replicated pod. It asks the
// local server (the one the same server.toml and KALAMDB_* environment
// describe) to hand every Raft group it leads to another replica, so a
// pod evicted by something other than the operator (a node drain) does
// not leave its groups leaderless for an election timeout. It needs no
// writable path (the pod's root filesystem is read-only) and no password:
// it signs a short-lived root token with the cluster's JWT secret (the
// Secret every pod has as KALAMDB_JWT_SECRET), falling back to logging in
// as root with auth.root_password when no secret is configured.
//
// Exit status 0: nothing led any more, nothing to hand over (a single
// node, a one-member group, a server not running); 1: groups still led
// when --timeout ran out, or an error (the kubelet then stops the pod
// anyway; the groups elect a new leader within an election timeout).
func runStepDown(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("step-down", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the server's server.toml (default: embedded defaults); KALAMDB_* environment overrides apply as for the server")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the leadership to move (1s..10m)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *timeout < time.Second || *timeout > 10*time.Minute {
		fmt.Fprintln(stderr, "kalamdb step-down: --timeout must be between 1s and 10m")
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "kalamdb step-down:", err)
		return 1
	}
	if len(cfg.Cluster.Members) < 2 {
		fmt.Fprintln(stdout, "kalamdb step-down: not a replicated cluster: nothing to hand over")
		return 0
	}
	c, err := stepDownClient(cfg, *timeout)
	if err != nil {
		fmt.Fprintln(stderr, "kalamdb step-down:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout+10*time.Second)
	defer cancel()
	if cfg.Auth.JWTSecret == "" {
		if _, err := c.Login(ctx, kalamsql.RootUser, cfg.Auth.RootPassword); err != nil {
			return stepDownFailed(stdout, stderr, err)
		}
	}
	res, err := c.StepDown(ctx, *timeout)
	if err != nil {
		return stepDownFailed(stdout, stderr, err)
	}
	fmt.Fprintf(stdout, "kalamdb step-down: replica %d handed over [%s], still leads [%s], alone in [%s]\n",
		res.ReplicaID, strings.Join(res.Moved, " "), strings.Join(res.StillLeading, " "), strings.Join(res.Alone, " "))
	if len(res.StillLeading) > 0 {
		return 1
	}
	return 0
}

// stepDownFailed reports err; a server that is not running (connection
// refused) or not replicated (404) has nothing to hand over.
func stepDownFailed(stdout, stderr io.Writer, err error) int {
	var ae *client.APIError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		fmt.Fprintln(stdout, "kalamdb step-down: the server is not running: nothing to hand over")
		return 0
	case errors.As(err, &ae) && ae.HTTPStatus == http.StatusNotFound:
		fmt.Fprintln(stdout, "kalamdb step-down: the server runs alone: nothing to hand over")
		return 0
	}
	fmt.Fprintln(stderr, "kalamdb step-down:", err)
	return 1
}

// stepDownClient is a client of the server cfg describes, authenticated
// with a root token signed by cfg's JWT secret when there is one. With TLS
// it pins the server's own certificate (cfg's cert_file): the server is
// reached on its listen address, which need not be a name in the
// certificate, and the connection never leaves the pod.
func stepDownClient(cfg config.Config, timeout time.Duration) (*client.Client, error) {
	host := cfg.Server.Host
	switch host {
	case "0.0.0.0", "":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	tr := &http.Transport{}
	if cfg.Security.TLS.CertFile != "" {
		scheme = "https"
		tc, err := pinnedTLS(cfg.Security.TLS.CertFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	c := client.New(scheme + "://" + net.JoinHostPort(host, strconv.Itoa(cfg.Server.Port)))
	c.HTTP = &http.Client{Timeout: timeout + 5*time.Second, Transport: tr}
	if cfg.Auth.JWTSecret != "" {
		tok, _, err := auth.NewTokenIssuer([]byte(cfg.Auth.JWTSecret), 5*time.Minute).Issue(kalamsql.RootUser, auth.RoleSystem, auth.TokenTypeAccess)
		if err != nil {
			return nil, err
		}
		c.Token = tok
	}
	return c, nil
}

// pinnedTLS accepts exactly the leaf certificate in certFile.
func pinnedTLS(certFile string) (*tls.Config, error) {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("while reading the server certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", certFile)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return nil, fmt.Errorf("while parsing %s: %w", certFile, err)
	}
	want := block.Bytes
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verified below against the pinned certificate instead of names.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return errors.New("the server's certificate is not the one in security.tls.cert_file")
			}
			return nil
		},
	}, nil
}
