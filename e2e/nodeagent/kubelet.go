package nodeagent

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// logServer serves the one kubelet endpoint the suite needs, container logs
// (GET /containerLogs/{namespace}/{pod}/{container}), so the API server's
// pods/log subresource, `kubectl logs` and `kubectl kalam logs` work. It
// listens on 127.0.0.1 (a free port, published as the Node's kubelet
// endpoint) with a throwaway self-signed certificate: the API server does not
// verify kubelet certificates when it has no --kubelet-certificate-authority.
// Query parameters: tailLines, previous, follow (follow streams new lines
// until the client goes away or the container restarts).
type logServer struct {
	a   *Agent
	srv *http.Server
	ln  net.Listener
}

func (a *Agent) startLogServer() (*logServer, error) {
	cert, err := selfSigned()
	if err != nil {
		return nil, fmt.Errorf("nodeagent: log server certificate: %w", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, fmt.Errorf("nodeagent: log server: %w", err)
	}
	ls := &logServer{a: a, ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", ls.containerLogs)
	ls.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ls.srv.Serve(ln) }() // owned by ls: ends when stop closes the server
	return ls, nil
}

func (ls *logServer) port() int32 { return int32(ls.ln.Addr().(*net.TCPAddr).Port) }

func (ls *logServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = ls.srv.Shutdown(ctx)
}

// logMarker starts the agent's own lines in a container log; each restart
// appends "=== nodeagent: starting NAME (restart N) ...".
const logMarker = "=== nodeagent: "

func (ls *logServer) containerLogs(w http.ResponseWriter, r *http.Request) {
	path, err := ls.a.LogPath(r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	previous, _ := strconv.ParseBool(q.Get("previous"))
	follow, _ := strconv.ParseBool(q.Get("follow"))
	tail := -1
	if s := q.Get("tailLines"); s != "" {
		if tail, err = strconv.Atoi(s); err != nil || tail < 0 {
			http.Error(w, "bad tailLines", http.StatusBadRequest)
			return
		}
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	runs, err := splitRuns(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	run := len(runs) - 1
	if previous {
		run--
	}
	if run < 0 {
		http.Error(w, "previous terminated container not found", http.StatusBadRequest)
		return
	}
	lines := runs[run]
	if tail >= 0 && len(lines) > tail {
		lines = lines[len(lines)-tail:]
	}
	w.Header().Set("Content-Type", "text/plain")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	if !follow || previous {
		return
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	// Follow: the file offset is at its end; poll for appended lines.
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadString('\n')
		if line != "" && strings.HasSuffix(line, "\n") {
			if strings.HasPrefix(line, logMarker) {
				if strings.HasPrefix(line, logMarker+"starting") {
					return // a new container: kubelet ends the stream too
				}
				continue
			}
			if _, werr := io.WriteString(w, line); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return
		}
		if line != "" { // partial line: re-read it whole later
			_, _ = f.Seek(-int64(len(line)), io.SeekCurrent)
			br.Reset(f)
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// splitRuns splits a container log into the lines of each run (container
// start), without the agent's own marker lines.
func splitRuns(r io.Reader) ([][]string, error) {
	var runs [][]string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, logMarker) {
			if strings.HasPrefix(l, logMarker+"starting") {
				runs = append(runs, nil)
			}
			continue
		}
		if len(runs) == 0 {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], l)
	}
	return runs, sc.Err()
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "e2e-node"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
