package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/flagmigrate/flagmigrate/internal/testutil"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Server processes of the tests' own, which they kill and restart on the same
// data directory and port. The shared servers of scripts/servers are never
// touched.

// pollEvery is the pause of the readiness polls, which are bounded by
// the test's deadline (testutil.Deadline), never by a fixed time.
const pollEvery = 20 * time.Millisecond

// toolEnv returns $name, the path of a server program exported by
// scripts/servers. When it is unset, the test is skipped, or fails under
// CI=true (the rule of internal/testutil: CI must never pass by skipping).
func toolEnv(t testing.TB, name string) string {
	t.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	testutil.SkipOrFail(t, name+" is not set: run scripts/test, or scripts/servers run -- go test ./e2e/")
	return ""
}

// freePort returns a loopback port that nothing is bound to, below Linux's
// ephemeral range (32768-60999), so that no outgoing connection takes it
// while the server is down between a kill and its restart.
func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p
		}
	}
	t.Fatal("no free port found")
	return 0
}

// process is a server program run by a test: started, SIGKILLed and started
// again with the same arguments (same port, same data directory).
type process struct {
	name   string
	argv   []string
	dir    string              // logs
	ready  func(run int) error // nil once the run-th start answers
	until  time.Time           // the test's deadline, which bounds each start
	mu     sync.Mutex          // guards cmd, exited, runs
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	runs   int
}

// logPath returns the file that run's stdout and stderr go to.
func (p *process) logPath(run int) string {
	return filepath.Join(p.dir, fmt.Sprintf("%s.%d.log", p.name, run))
}

// start starts the program and polls p.ready until it answers, at most
// until the test's deadline. It
// returns an error, with the end of the log, when the program exits or does
// not answer in time.
func (p *process) start() error {
	p.mu.Lock()
	p.runs++
	run := p.runs
	p.mu.Unlock()
	logf, err := os.Create(p.logPath(run))
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status of a killed server says nothing
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	for {
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start-up:\n%s", p.name, p.tail(run))
		default:
		}
		err := p.ready(run)
		if err == nil {
			return nil
		}
		if time.Now().After(p.until) {
			p.kill()
			return fmt.Errorf("%s did not answer by the test's deadline (%v):\n%s", p.name, err, p.tail(run))
		}
		time.Sleep(pollEvery) // bounded readiness poll
	}
}

// kill sends SIGKILL and waits until the process has exited. It does
// nothing when the process is not running.
func (p *process) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// tail returns the end of run's log.
func (p *process) tail(run int) string {
	b, err := os.ReadFile(p.logPath(run))
	if err != nil {
		return err.Error()
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// newProcess returns a process whose logs go to a directory of the test; it
// is killed when the test ends.
func newProcess(t testing.TB, name string, argv []string, ready func(run int) error) *process {
	p := &process{name: name, argv: argv, dir: t.TempDir(), ready: ready, until: testutil.Deadline(t)}
	t.Cleanup(p.kill)
	return p
}

// dialable reports whether something accepts connections on addr.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	return c.Close()
}

// dynamoDBLocal is a DynamoDB Local process with its data on disk.
type dynamoDBLocal struct {
	*process
	Endpoint string
}

// startDynamoDBLocal starts AWS DynamoDB Local ($DYNAMODB_LOCAL, the
// launcher of scripts/servers, which binds 127.0.0.1 only) on a free loopback
// port with its SQLite file in a directory of the test (-dbPath), so that it
// keeps its tables across a kill and restart.
func startDynamoDBLocal(t *testing.T) *dynamoDBLocal {
	t.Helper()
	bin := toolEnv(t, "DYNAMODB_LOCAL")
	data := t.TempDir() // before newProcess: removed after the kill
	var lastErr error
	for range 5 { // another process may take the port before DynamoDB Local binds it
		port := strconv.Itoa(freePort(t))
		addr := net.JoinHostPort("127.0.0.1", port)
		var p *process
		p = newProcess(t, "dynamodb-local", []string{bin, "-port", port, "-dbPath", data},
			func(run int) error {
				b, _ := os.ReadFile(p.logPath(run))
				if !bytes.Contains(b, []byte("listening on "+addr)) {
					return errors.New("not listening yet")
				}
				return dialable(addr)
			})
		lastErr = p.start()
		if lastErr == nil {
			return &dynamoDBLocal{process: p, Endpoint: "http://" + addr}
		}
		if !strings.Contains(lastErr.Error(), "already in use") {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

// ferretDB is a FerretDB process with its SQLite data on disk.
type ferretDB struct {
	*process
	URI string
}

// startFerretDB starts the FerretDB launcher ($FERRETDB_BIN) on a free
// loopback port with its SQLite files in a directory of the test, so that it
// keeps its data across a kill and restart.
func startFerretDB(t testing.TB) *ferretDB {
	t.Helper()
	bin := toolEnv(t, "FERRETDB_BIN")
	data := t.TempDir()
	var lastErr error
	for range 5 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
		var p *process
		p = newProcess(t, "ferretdb", []string{bin, "-listen", addr, "-dir", data},
			func(run int) error {
				// The launcher prints its URI once the listener is bound.
				b, _ := os.ReadFile(p.logPath(run))
				if !bytes.Contains(b, []byte("mongodb://")) {
					return errors.New("no URI printed yet")
				}
				return dialable(addr)
			})
		lastErr = p.start()
		if lastErr == nil {
			return &ferretDB{process: p, URI: "mongodb://" + addr + "/"}
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

// newDynamoClient returns a DynamoDB client for endpoint that fails fast
// while the server is down: each HTTP attempt is bounded by attemptTimeout
// (connecting by less), and the SDK makes at most three attempts with short
// backoffs. Its idle connections are closed when the test ends.
func newDynamoClient(t testing.TB, endpoint string, attemptTimeout time.Duration) *dynamodb.Client {
	t.Helper()
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 500 * time.Millisecond, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return testutil.LocalDynamoClient(t, endpoint, &http.Client{Transport: tr, Timeout: attemptTimeout}, 100*time.Millisecond)
}

// newMongoClient returns a client for uri that fails fast while the server
// is down (server selection within half a second) and notices the restarted
// server soon (heartbeats every half second). It is disconnected when the
// test ends.
func newMongoClient(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetConnectTimeout(2 * time.Second).
		SetServerSelectionTimeout(500 * time.Millisecond).
		SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatalf("connect to %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := testutil.DeadlineContext(context.Background(), t)
		defer cancel()
		if err := client.Disconnect(ctx); err != nil {
			t.Errorf("disconnect from %s: %v", uri, err)
		}
	})
	return client
}
