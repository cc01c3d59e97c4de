package pgdiff

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// PG is a minimal PostgreSQL client for the oracle: the simple query
// protocol over TCP with trust authentication, text results. It needs no
// driver, so the oracle adds no dependency to the module.
type PG struct {
	conn net.Conn
	r    *bufio.Reader
}

// DialPG connects to addr (host:port) as user to database db; the
// cluster must trust local connections (hack/pgdiff.sh starts it so).
func DialPG(ctx context.Context, addr, user, db string) (*PG, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("while connecting to PostgreSQL at %s: %w", addr, err)
	}
	p := &PG{conn: conn, r: bufio.NewReader(conn)}
	var body []byte
	body = binary.BigEndian.AppendUint32(body, 196608) // protocol 3.0
	for _, kv := range [][2]string{{"user", user}, {"database", db}, {"client_encoding", "UTF8"}} {
		body = append(append(append(append(body, kv[0]...), 0), kv[1]...), 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	if _, err := conn.Write(append(msg, body...)); err != nil {
		conn.Close()
		return nil, err
	}
	for {
		t, payload, err := p.read()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("while starting up: %w", err)
		}
		switch t {
		case 'R':
			if binary.BigEndian.Uint32(payload) != 0 {
				conn.Close()
				return nil, fmt.Errorf("PostgreSQL asks for authentication method %d; start it with trust", binary.BigEndian.Uint32(payload))
			}
		case 'E':
			conn.Close()
			code, m := errorFields(payload)
			return nil, fmt.Errorf("PostgreSQL refused the connection: %s %s", code, m)
		case 'Z':
			return p, nil
		}
	}
}

// Close ends the session.
func (p *PG) Close() error {
	_, _ = p.conn.Write([]byte{'X', 0, 0, 0, 4})
	return p.conn.Close()
}

func (p *PG) read() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:]) - 4
	payload := make([]byte, n)
	if _, err := io.ReadFull(p.r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// Query runs one statement and returns its answer; a PostgreSQL error
// is an Answer with Err set to the SQLSTATE, and err is for broken
// connections only. The answer of the last statement of sql is returned.
func (p *PG) Query(sql string, timeout time.Duration) (Answer, error) {
	_ = p.conn.SetDeadline(time.Now().Add(timeout))
	defer p.conn.SetDeadline(time.Time{})
	msg := []byte{'Q', 0, 0, 0, 0}
	msg = append(append(msg, sql...), 0)
	binary.BigEndian.PutUint32(msg[1:], uint32(len(msg)-1))
	if _, err := p.conn.Write(msg); err != nil {
		return Answer{}, err
	}
	var a Answer
	for {
		t, payload, err := p.read()
		if err != nil {
			return Answer{}, err
		}
		switch t {
		case 'T':
			a = Answer{Cols: []string{}, Rows: [][]*string{}}
			n := int(binary.BigEndian.Uint16(payload))
			pos := 2
			for i := 0; i < n; i++ {
				end := pos
				for payload[end] != 0 {
					end++
				}
				a.Cols = append(a.Cols, string(payload[pos:end]))
				pos = end + 1 + 18
			}
		case 'D':
			n := int(binary.BigEndian.Uint16(payload))
			pos := 2
			row := make([]*string, n)
			for i := 0; i < n; i++ {
				l := int32(binary.BigEndian.Uint32(payload[pos:]))
				pos += 4
				if l >= 0 {
					s := string(payload[pos : pos+int(l)])
					row[i] = &s
					pos += int(l)
				}
			}
			a.Rows = append(a.Rows, row)
		case 'E':
			code, _ := errorFields(payload)
			a = Answer{Err: code}
		case 'Z':
			return a, nil
		}
	}
}

func errorFields(payload []byte) (code, message string) {
	for len(payload) > 1 {
		f := payload[0]
		end := 1
		for end < len(payload) && payload[end] != 0 {
			end++
		}
		v := string(payload[1:end])
		switch f {
		case 'C':
			code = v
		case 'M':
			message = v
		}
		payload = payload[end+1:]
	}
	return code, message
}
