package server

import (
	"net"
	"strconv"
	"sync"
	"time"
)

// maxLimiterKeys bounds a keyed limiter's memory: when full, buckets that
// have refilled completely (idle keys) are dropped, and if none are, the
// map is reset (a flood of distinct keys then briefly resets limits rather
// than exhausting memory).
const maxLimiterKeys = 65536

// keyedLimiter is a token bucket per key (user id or IP) refilled at rate
// per second with a burst of 2*rate. A nil limiter (rate 0) allows all.
type keyedLimiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	m     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newKeyedLimiter(perSec int) *keyedLimiter {
	if perSec <= 0 {
		return nil
	}
	return &keyedLimiter{rate: float64(perSec), burst: 2 * float64(perSec), m: map[string]*bucket{}}
}

// allow takes one token from key's bucket, reporting false when empty.
func (l *keyedLimiter) allow(key string, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxLimiterKeys {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.m[key] = b
	} else {
		b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *keyedLimiter) sweep(now time.Time) {
	for k, b := range l.m {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.m, k)
		}
	}
	if len(l.m) >= maxLimiterKeys {
		clear(l.m)
	}
}

// LimitConnsPerIP wraps ln so that at most max connections per remote IP
// are open at once; a connection over the limit is answered with a
// plain-HTTP 429 and closed. max <= 0 returns ln unchanged.
func LimitConnsPerIP(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &connLimitListener{Listener: ln, max: max, open: map[string]int{}}
}

type connLimitListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

// tooManyConns is the raw answer to a connection over the per-IP limit.
var tooManyConns = func() string {
	body := `{"status":"error","results":[],"took":0,"error":{"code":"RATE_LIMIT_EXCEEDED","message":"too many connections from this address"}}` + "\n"
	return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}()

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			// Answer without blocking Accept on a slow peer.
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte(tooManyConns))
			_ = c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

func remoteIP(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

type limitedConn struct {
	net.Conn
	l    *connLimitListener
	ip   string
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.ip]--; c.l.open[c.ip] <= 0 {
			delete(c.l.open, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
