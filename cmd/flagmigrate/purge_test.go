package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// TestPurgeCommand: after an erasure, `purge` keeps the tombstones younger
// than --older-than (a store of an erased key is still refused) and removes
// the older ones from each store (the key can be stored again), and a rerun
// finds none left.
func TestPurgeCommand(t *testing.T) {
	s := setup(t, 2, 5)
	if r := cli(t, "backfill", "--from", s.mongoURL, "--to", s.dynURL); r.code != 0 {
		t.Fatalf("backfill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, "erase", "--account", "acct-01", "--old", s.mongoURL, "--new", s.dynURL); r.code != 0 {
		t.Fatalf("erase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	erased := flagmigrate.Event{AccountID: "acct-01", ID: "evt-00000", Type: "page.view", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	stores := map[string]flagmigrate.EventStore{s.mongoURL: s.mongo, s.dynURL: s.dynamo}
	for u, st := range stores {
		if r := cli(t, "purge", "--store", u, "--older-than", "1h"); r.code != 0 || !strings.Contains(r.stdout, "purge: 0 tombstones") {
			t.Fatalf("purge of young tombstones: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if err := st.StoreEvent(t.Context(), erased); !errors.Is(err, eventstore.ErrDeleted) {
			t.Errorf("%T: store of an erased key after a purge that kept its tombstone = %v, want ErrDeleted", st, err)
		}
	}
	time.Sleep(20 * time.Millisecond) // the tombstones' age, not an ordering
	for u, st := range stores {
		if r := cli(t, "purge", "--store", u, "--older-than", "10ms"); r.code != 0 || !strings.Contains(r.stdout, "purge: 5 tombstones") {
			t.Fatalf("purge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := cli(t, "purge", "--store", u, "--older-than", "10ms"); r.code != 0 || !strings.Contains(r.stdout, "purge: 0 tombstones") {
			t.Errorf("second purge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if err := st.StoreEvent(t.Context(), erased); err != nil {
			t.Errorf("%T: store of a key whose tombstone was purged = %v, want nil", st, err)
		}
	}
}
