package repairlog_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/flagmigrate/flagmigrate/repairlog"
)

// Erasing an account rewrites the file without its entries (and without
// corrupt lines that name it), keeps every other entry, and loses none of
// the entries another writer appends while it runs.
func TestEraseAccountRemovesOnlyItsEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "repair.jsonl")
	log, err := repairlog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	entry := func(account, key string) migration.RepairEntry {
		return migration.RepairEntry{Call: migration.Call{Op: eventstore.OpStoreEvent, AccountID: account, Key: key},
			Target: migration.SideNew, Source: migration.SideOld, Error: "down"}
	}
	for i, a := range []string{"gone", "kept", "gone", "kept"} {
		if err := log.Record(t.Context(), entry(a, string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	// A corrupt line naming the account, and one naming nobody.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"accountId":"gone","key":` + "\n" + `{"garbage"` + "\n")
	f.Close()

	other, err := repairlog.Open(path) // another writer of the same file
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			if err := other.Record(t.Context(), entry("kept", "w"+string(rune('a'+i)))); err != nil {
				t.Error(err)
			}
		}
	})
	n, err := log.EraseAccount(t.Context(), "gone")
	wg.Wait()
	if err != nil || n != 3 {
		t.Fatalf("EraseAccount = %d, %v; want 3 lines removed", n, err)
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte(`"gone"`)) {
		t.Errorf("the log still names the erased account:\n%s", b)
	}
	var kept, bad int
	for e, err := range repairlog.ReadFile(t.Context(), path) {
		switch {
		case errors.Is(err, eventstore.ErrUnreadable):
			bad++
		case err != nil:
			t.Fatal(err)
		case e.AccountID == "kept":
			kept++
		default:
			t.Errorf("unexpected entry %+v", e)
		}
	}
	if kept != 22 || bad != 1 {
		t.Errorf("after the erasure: %d entries of the kept account (want 22: 2 before, 20 appended meanwhile), %d unreadable lines (want 1)", kept, bad)
	}
	if n, err := repairlog.EraseAccount(t.Context(), filepath.Join(t.TempDir(), "none"), "gone"); n != 0 || err != nil {
		t.Errorf("erasing from a missing file = %d, %v; want 0, nil", n, err)
	}
	if _, err := repairlog.EraseAccount(t.Context(), path, ""); !errors.Is(err, flagmigrate.ErrInvalidArgument) {
		t.Errorf("erasing an empty account = %v, want ErrInvalidArgument", err)
	}
}
