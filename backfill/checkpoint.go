package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Checkpoint is how far a run has come: every event up to and including
// After (in the source's scan order) of the account at AccountIndex has been
// handled. A run resumed from it scans again from just after After.
type Checkpoint struct {
	// Job identifies the run's shape (accounts, segment); a checkpoint of
	// another job is refused rather than applied to the wrong scan.
	Job string `json:"job"`
	// AccountIndex is the position in Options.Accounts (0 for a whole-store run).
	AccountIndex int `json:"accountIndex"`
	// After is the last handled key of that account or segment; nil when
	// nothing of it was handled yet.
	After *eventstore.EventKey `json:"after,omitempty"`
	// Done is true when the run finished.
	Done bool `json:"done"`
	// Stats are the counts so far, carried across resumes.
	Stats Stats `json:"stats"`
}

// CheckpointStore saves and loads a run's checkpoint. Save must be durable
// when it returns: a crash right after it loses nothing.
type CheckpointStore interface {
	// Load returns the saved checkpoint, or ok false when there is none.
	Load(ctx context.Context) (cp Checkpoint, ok bool, err error)
	// Save replaces the saved checkpoint.
	Save(ctx context.Context, cp Checkpoint) error
}

// FileCheckpoint keeps a checkpoint in a JSON file, replaced atomically
// (write to a temporary file, fsync, rename, fsync the directory).
type FileCheckpoint struct {
	Path string
	mu   sync.Mutex
}

// NewFileCheckpoint returns a CheckpointStore writing to path.
func NewFileCheckpoint(path string) *FileCheckpoint { return &FileCheckpoint{Path: path} }

// String is the file's path: errors about the checkpoint name it.
func (f *FileCheckpoint) String() string { return f.Path }

// Load implements [CheckpointStore].
func (f *FileCheckpoint) Load(context.Context) (Checkpoint, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Checkpoint{}, false, nil
	}
	if err != nil {
		return Checkpoint{}, false, err
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return Checkpoint{}, false, fmt.Errorf("backfill: checkpoint %s: %w", f.Path, err)
	}
	return cp, true, nil
}

// Save implements [CheckpointStore].
func (f *FileCheckpoint) Save(_ context.Context, cp Checkpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(f.Path, b)
}

// replaceFile writes b to path atomically: a temporary file beside it,
// fsync, rename, and fsync of the directory so that the rename survives a
// crash.
func replaceFile(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// MemCheckpoint keeps a checkpoint in memory, for tests and dry runs.
type MemCheckpoint struct {
	mu sync.Mutex
	cp *Checkpoint
}

// Load implements [CheckpointStore].
func (m *MemCheckpoint) Load(context.Context) (Checkpoint, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cp == nil {
		return Checkpoint{}, false, nil
	}
	return *m.cp, true, nil
}

// Save implements [CheckpointStore].
func (m *MemCheckpoint) Save(_ context.Context, cp Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cp = &cp
	return nil
}
