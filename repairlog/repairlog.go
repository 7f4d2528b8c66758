// Package repairlog is a durable [migration.RepairLog]: a file of JSON
// lines, one [migration.RepairEntry] per line, each written and fsynced
// before Record returns, so that a write that reached one store only is
// remembered across crashes until the backfill's repair replays it.
//
//	log, err := repairlog.Open("/var/lib/myservice/repair.jsonl")
//	...
//	store, err := flagmigrate.NewMigratingStore(oldStore, newStore, ldClient,
//		flagmigrate.WithRepairLog(log))
//
// The file only grows; replaying it is idempotent (stores are idempotent),
// so an operator rotates it after a successful repair run. [ReadFile] and
// [Read] read a log, for example one copied off a server. [Memory] is an
// in-memory log with a limit, for tests and short-lived tools.
//
// # Several writers
//
// Several processes (and several [Open]s in one process) may append to one
// file: during a rolling restart on a shared volume the new instance starts
// while the old one still writes, and refusing it would stop the rollout or
// send its repairs nowhere. Every acknowledged entry survives: the file is
// opened in append mode, each entry is one write of one whole line, and
// each append (write and fsync) holds an exclusive flock(2) on the file, so
// appends never interleave, even where append mode alone is not atomic
// (NFS). Under that lock a writer that finds the file not ending in a
// newline (another writer crashed mid-line) starts its line on a fresh one,
// so a crash costs at most the crashed writer's unacknowledged line. The
// lock is advisory and held only for one append: readers do not take it.
// Where flock(2) is missing (Windows, Plan 9) appends rely on append mode
// alone; share a file there only on a local file system.
package repairlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
)

// MaxLineBytes is the longest line Read accepts.
const MaxLineBytes = 1 << 20

// Log is an append-only, fsynced repair log file. It is safe for
// concurrent use, and other Logs, in this process or others, may append to
// the same file (see the package documentation).
type Log struct {
	path string

	torn int64 // the incomplete last line Open found

	mu sync.Mutex
	f  *os.File
}

var (
	_ migration.RepairLog    = (*Log)(nil)
	_ migration.RepairReader = (*Log)(nil)
)

// Open opens the log at path for appending, creating it (mode 0600, and
// syncing its directory) if needed.
//
// A last line left incomplete by a crash (its entry was never
// acknowledged) is kept, not cut: Open never deletes what a file holds, so
// a file that is not a repair log, or lost its newlines, is not destroyed.
// Open reports it, with a warning through [slog.Default] and
// [Log.TornTail]; [Read] reports it as a bad line by number, and the next
// entry starts on a fresh line.
func Open(path string) (*Log, error) {
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("repairlog: %w", err)
	}
	var torn int64
	if err := withLock(f, func() (err error) { torn, err = tornTail(f); return err }); err != nil {
		f.Close()
		return nil, fmt.Errorf("repairlog: %s: %w", path, err)
	}
	if created {
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, fmt.Errorf("repairlog: %w", err)
		}
	}
	if torn > 0 {
		slog.Warn("repairlog: the log ends in an incomplete line, left by a writer that crashed mid-write; it is kept, "+
			"and the next entry starts on a fresh line", slog.String("path", path), slog.Int64("bytes", torn))
	}
	return &Log{path: path, f: f, torn: torn}, nil
}

// TornTail returns the length in bytes of the incomplete last line Open
// found (0 when the file ended with a whole line).
func (l *Log) TornTail() int64 { return l.torn }

// withLock runs fn holding the file's append lock.
func withLock(f *os.File, fn func() error) error {
	unlock, err := lockFile(f)
	if err != nil {
		return err
	}
	err = fn()
	if uerr := unlock(); err == nil {
		err = uerr
	}
	return err
}

// endsLine reports whether f is empty or ends with a newline.
func endsLine(f *os.File) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err == nil, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], st.Size()-1); err != nil {
		return false, err
	}
	return b[0] == '\n', nil
}

// tornTail returns the number of bytes after f's last newline.
func tornTail(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	const block = 4096
	buf := make([]byte, block)
	for end := size; end > 0; {
		start := max(0, end-block)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return size - (start + int64(i) + 1), nil
		}
		end = start
	}
	return size, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Path returns the file's path.
func (l *Log) Path() string { return l.path }

// Record implements [migration.RepairLog]: it appends e as one JSON line
// and fsyncs the file before returning. An incomplete entry matches
// [flagmigrate.ErrInvalidArgument]; after Close, [eventstore.ErrClosed].
func (l *Log) Record(ctx context.Context, e migration.RepairEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	line, err := marshal(e)
	if err != nil {
		return fmt.Errorf("repairlog: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("repairlog: %s: %w", l.path, eventstore.ErrClosed)
	}
	if err := withLock(l.f, func() error { return appendLine(l.f, line) }); err != nil {
		return fmt.Errorf("repairlog: %s: %w", l.path, err)
	}
	return nil
}

// appendLine writes line at the end of f in one write, on a line of its
// own, and fsyncs f. The caller holds the append lock.
func appendLine(f *os.File, line []byte) error {
	ok, err := endsLine(f)
	if err != nil {
		return err
	}
	if !ok { // a writer crashed mid-line: do not glue this entry to it
		line = append([]byte{'\n'}, line...)
	}
	if _, err := f.Write(line); err != nil {
		return err
	}
	return f.Sync()
}

// RepairEntries implements [migration.RepairReader]: it reads the file
// from its start, as [ReadFile] does.
func (l *Log) RepairEntries(ctx context.Context) iter.Seq2[migration.RepairEntry, error] {
	return ReadFile(ctx, l.path)
}

// Close closes the file. Later Records fail with [eventstore.ErrClosed].
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// LineError is a line of a log that holds no valid entry: corrupt, too
// long, or the incomplete last line of a crash. It matches
// [eventstore.ErrUnreadable] and its cause with [errors.Is].
type LineError struct {
	Line int   // the line's number, from 1
	Err  error // what is wrong with it
}

// Error implements error.
func (e *LineError) Error() string { return fmt.Sprintf("repairlog: line %d: %v", e.Line, e.Err) }

// Unwrap returns [eventstore.ErrUnreadable] and the cause.
func (e *LineError) Unwrap() []error { return []error{eventstore.ErrUnreadable, e.Err} }

// ReadFile yields the entries of the log file at path, as [Read] does.
func ReadFile(ctx context.Context, path string) iter.Seq2[migration.RepairEntry, error] {
	return func(yield func(migration.RepairEntry, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(migration.RepairEntry{}, fmt.Errorf("repairlog: %w", err))
			return
		}
		defer f.Close()
		for e, err := range Read(ctx, f) {
			if !yield(e, err) {
				return
			}
		}
	}
}

// Read yields the entries of a log in the order recorded. A line that does
// not hold a valid entry yields a [*LineError] naming its line number, and
// the sequence goes on; so does a line longer than [MaxLineBytes], and a
// last line without its newline (cut short by a crash, or being written as
// the log is read), which yields one last. A read error or ctx's end yields
// an error and ends the sequence.
func Read(ctx context.Context, r io.Reader) iter.Seq2[migration.RepairEntry, error] {
	return func(yield func(migration.RepairEntry, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		for n := 1; ; n++ {
			if err := ctx.Err(); err != nil {
				yield(migration.RepairEntry{}, err)
				return
			}
			line, err := readLine(br)
			if errors.Is(err, io.EOF) {
				if len(line) > 0 { // a torn last line
					yield(migration.RepairEntry{}, &LineError{Line: n, Err: fmt.Errorf("an incomplete last line of %d bytes (no newline): "+
						"a writer crashed mid-write, or is writing it now", len(line))})
				}
				return
			}
			if err != nil && !errors.Is(err, errLineTooLong) {
				yield(migration.RepairEntry{}, fmt.Errorf("repairlog: line %d: %w", n, err))
				return
			}
			var e migration.RepairEntry
			if err == nil {
				e, err = unmarshal(line)
			}
			if err == nil {
				err = e.Validate()
			}
			if err != nil {
				if !yield(migration.RepairEntry{}, &LineError{Line: n, Err: err}) {
					return
				}
				continue
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

var errLineTooLong = fmt.Errorf("a line longer than %d bytes", MaxLineBytes)

// readLine returns the next complete line without its newline, or io.EOF
// with what is left when no complete line is (empty at the end). A line
// longer than MaxLineBytes is skipped, returning errLineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			line = append(line, chunk...)
		}
		switch {
		case err == nil && long:
			return nil, errLineTooLong
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			if !long && len(line) > MaxLineBytes {
				long, line = true, nil
			}
		case errors.Is(err, io.EOF) && long:
			return nil, errLineTooLong // and the next call sees the end
		case errors.Is(err, io.EOF):
			return line, err
		default:
			return nil, err
		}
	}
}
