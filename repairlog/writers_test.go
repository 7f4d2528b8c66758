package repairlog_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
	"go.uber.org/goleak"
)

// writerChildEnv, set to "PATH TAG N", makes the test binary a child
// process of TestTwoProcessesShareALog that appends N entries tagged TAG to
// the log at PATH (see TestMain).
const writerChildEnv = "FLAGMIGRATE_REPAIRLOG_WRITER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(writerChildEnv); spec != "" {
		os.Exit(writerChild(spec))
	}
	goleak.VerifyTestMain(m)
}

// writerChild opens the log, says "ready", waits for "go" on stdin (so
// that both children write at once), appends its entries and prints how
// many were acknowledged.
func writerChild(spec string) int {
	var path, tag string
	var n int
	if _, err := fmt.Sscan(spec, &path, &tag, &n); err != nil {
		fmt.Fprintln(os.Stderr, "writer child:", err)
		return 2
	}
	l, err := repairlog.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer child:", err)
		return 1
	}
	defer l.Close()
	fmt.Println("ready")
	if line, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil || line != "go\n" {
		fmt.Fprintln(os.Stderr, "writer child: no go:", line, err)
		return 2
	}
	acked := 0
	for i := range n {
		if err := l.Record(context.Background(), taggedEntry(tag, i)); err != nil {
			fmt.Fprintln(os.Stderr, "writer child:", err)
			break
		}
		acked++
	}
	fmt.Println(acked)
	return 0
}

func taggedEntry(tag string, i int) migration.RepairEntry {
	return migration.RepairEntry{
		Call: migration.Call{Op: eventstore.OpStoreEvent, AccountID: "acct-" + tag, Key: strconv.Itoa(i), Kind: migration.KindWrite},
		Time: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), Target: migration.SideNew, Source: migration.SideOld,
		Error: "a secondary failure with a longer message, so that lines are not tiny: " + tag,
	}
}

// checkAll reads the log and checks that it holds exactly the acknowledged
// entries of each tag, once each, and no corrupt line.
func checkAll(t *testing.T, path string, acked map[string]int) {
	t.Helper()
	seen := map[string]map[string]int{}
	for e, err := range repairlog.ReadFile(context.Background(), path) {
		if err != nil {
			t.Errorf("corrupt line: %v", err)
			continue
		}
		tag := e.AccountID[len("acct-"):]
		if seen[tag] == nil {
			seen[tag] = map[string]int{}
		}
		seen[tag][e.Key]++
	}
	for tag, n := range acked {
		kept := 0
		for i := range n {
			switch c := seen[tag][strconv.Itoa(i)]; c {
			case 1:
				kept++
			case 0:
			default:
				t.Errorf("writer %s: entry %d kept %d times", tag, i, c)
			}
		}
		if kept != n {
			t.Errorf("writer %s: %d of %d acknowledged entries kept", tag, kept, n)
		}
	}
}

// TestTwoProcessesShareALog: two processes append to one log at once, as
// the old and new instance of a rolling restart on a shared volume do.
// The log is shared, not refused: every acknowledged entry survives, whole.
func TestTwoProcessesShareALog(t *testing.T) {
	const n = 400
	path := filepath.Join(t.TempDir(), "repair.jsonl")
	type child struct {
		cmd   *exec.Cmd
		stdin *os.File
		out   *bufio.Scanner
	}
	var children []child
	for _, tag := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", writerChildEnv, path, tag, n))
		cmd.Stderr = os.Stderr
		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = inR
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		inR.Close()
		children = append(children, child{cmd, inW, bufio.NewScanner(stdout)})
	}
	for i, c := range children { // both have opened the log
		if !c.out.Scan() || c.out.Text() != "ready" {
			t.Fatalf("child %d not ready: %q %v", i, c.out.Text(), c.out.Err())
		}
	}
	for _, c := range children { // then both write at once
		if _, err := c.stdin.WriteString("go\n"); err != nil {
			t.Fatal(err)
		}
		c.stdin.Close()
	}
	acked := map[string]int{}
	for i, c := range children {
		if !c.out.Scan() {
			t.Fatalf("child %d said nothing: %v", i, c.out.Err())
		}
		got, err := strconv.Atoi(c.out.Text())
		if err != nil {
			t.Fatalf("child %d: %q", i, c.out.Text())
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		if got != n {
			t.Errorf("child %d: %d of %d entries acknowledged: sharing must not fail appends", i, got, n)
		}
		acked[string(rune('a'+i))] = got
	}
	checkAll(t, path, acked)
}

// TestTwoHandlesShareALog: two Opens of one path in one process, appended
// to at once, keep every acknowledged entry.
func TestTwoHandlesShareALog(t *testing.T) {
	const n = 200
	path := filepath.Join(t.TempDir(), "repair.jsonl")
	logs := []*repairlog.Log{mustOpen(t, path), mustOpen(t, path)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	acked := make([]int, len(logs))
	for w, l := range logs {
		wg.Go(func() {
			<-start
			for i := range n {
				if err := l.Record(context.Background(), taggedEntry(string(rune('a'+w)), i)); err != nil {
					t.Errorf("handle %d: %v", w, err)
					return
				}
				acked[w]++
			}
		})
	}
	close(start)
	wg.Wait()
	checkAll(t, path, map[string]int{"a": acked[0], "b": acked[1]})
	if acked[0] != n || acked[1] != n {
		t.Errorf("acknowledged %v of %d each", acked, n)
	}
}

// TestAppendAfterAnotherWritersCrash: a writer that crashed mid-line
// leaves the file without a final newline while another keeps writing;
// the survivor's next entry starts on a line of its own and is kept.
func TestAppendAfterAnotherWritersCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "repair.jsonl")
	l := mustOpen(t, path)
	if err := l.Record(context.Background(), taggedEntry("a", 0)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"time":"2024-06-01T00:00:00Z","op":"Sto`) // the other writer dies here
	_ = f.Close()
	if err := l.Record(context.Background(), taggedEntry("a", 1)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	bad := 0
	for e, err := range repairlog.ReadFile(context.Background(), path) {
		if err != nil {
			bad++
			continue
		}
		keys = append(keys, e.Key)
	}
	if len(keys) != 2 || keys[0] != "0" || keys[1] != "1" || bad != 1 {
		t.Errorf("entries %v and %d bad lines, want entries 0 and 1 and the torn line apart", keys, bad)
	}
}
