package mongodao_test

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/testutil"
)

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// proxy forwards TCP connections to a MongoDB server until told to fail:
// "stopped" closes every connection and refuses new ones, as a server that
// was killed; "hung" keeps connections open but never answers again, as a
// server that froze or a network that drops packets.
type proxy struct {
	t       *testing.T
	target  string
	l       net.Listener
	hung    atomic.Bool
	mu      sync.Mutex
	stopped bool
	conns   []net.Conn
	wg      sync.WaitGroup
}

// newProxy starts a proxy in front of the (single) host of uri.
func newProxy(t *testing.T, uri string) *proxy {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "mongodb" || strings.Contains(u.Host, ",") {
		testutil.SkipOrFail(t, fmt.Sprintf("the proxy needs a mongodb:// URI with a single host, not %q", uri))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, target: u.Host, l: l}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		p.fail("stopped")
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		if p.hung.Load() {
			p.wg.Add(1)
			go p.pipe(io.Discard, c)
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(s) {
			return
		}
		p.wg.Add(2)
		go p.pipe(s, c)
		go p.pipe(c, s)
	}
}

// track records c for closing; false (c closed) when the proxy has stopped.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

// pipe copies src to dst until src fails; once hung, it drops what it reads.
func (p *proxy) pipe(dst io.Writer, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.hung.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) fail(mode string) {
	switch mode {
	case "hung":
		p.hung.Store(true)
	case "stopped":
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.stopped {
			p.stopped = true
			p.l.Close()
		}
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	default:
		p.t.Fatalf("unknown failure mode %q", mode)
	}
}
