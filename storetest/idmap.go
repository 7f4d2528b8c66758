package storetest

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Options adapt the suite to a store that holds only some valid events.
type Options struct {
	// IDs, when set, maps each key the suite uses (any valid key) to the
	// event ID the store is given: for a store whose IDs have a format of
	// their own (a MongoDB layout with ObjectID keys, say). It must be
	// injective and, within an account, preserve bytewise order on the
	// suite's IDs; [HexIDs] is one. The
	// suite translates IDs on the way in and back on the way out, so every
	// other check is unchanged. IDs that fail [eventstore.ValidateKey] are
	// passed as they are.
	IDs func(accountID, id string) string
}

// HexIDs maps a key to 24 lowercase hexadecimal digits (an ObjectID): 4
// bytes of the FNV-1a hash of the account, then the first 8 bytes of the ID,
// padded with zeros. Valid IDs hold no NUL, so the map preserves bytewise
// order within an account; the suite's IDs differ in their first 8 bytes,
// and its accounts in their hash. Stores whose IDs are unique across
// accounts (MongoDB's _id) thus see distinct IDs for the same ID in two
// accounts.
func HexIDs(accountID, id string) string {
	h := fnv.New32a()
	h.Write([]byte(accountID))
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 12), h.Sum32())
	b = b[:12]
	copy(b[4:], id)
	return hex.EncodeToString(b)
}

// UUIDIDs maps a key to a UUID in canonical form (36 lowercase
// characters): the 12 bytes of [HexIDs], then 4 zero bytes, grouped 8-4-4-4-12.
// Like HexIDs it is injective on the suite's keys and preserves bytewise
// order within an account, for a store whose IDs are UUIDs (a MongoDB
// layout with binary UUID keys).
func UUIDIDs(accountID, id string) string {
	h := HexIDs(accountID, id) + "00000000"
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// RunWith runs the suite as [Run] does, adapted by opts.
func RunWith(t *testing.T, newStore NewStore, opts Options) {
	t.Helper()
	if opts.IDs == nil {
		Run(t, newStore)
		return
	}
	Run(t, func(t *testing.T) eventstore.EventStore {
		inner := newStore(t)
		full, ok := inner.(fullStore)
		if !ok {
			t.Fatalf("storetest: Options.IDs needs a store with every optional capability; %T lacks some", inner)
		}
		return &idMapped{t: t, s: full, f: opts.IDs, back: map[string]string{}}
	})
}

type fullStore interface {
	eventstore.EventStore
	eventstore.EventScanner
	eventstore.BatchStorer
	eventstore.BatchFinder
}

// idMapped is a store seen through an ID map.
type idMapped struct {
	t    *testing.T
	s    fullStore
	f    func(accountID, id string) string
	mu   sync.Mutex
	back map[string]string // store ID -> suite ID
}

func (m *idMapped) to(account, id string) string {
	if eventstore.ValidateKey(account, id) != nil {
		return id
	}
	sid := m.f(account, id)
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.back[sid]; ok && prev != id {
		m.t.Errorf("storetest: Options.IDs maps %q and %q both to %q", prev, id, sid)
	}
	m.back[sid] = id // the account is in sid (by injectivity), so id suffices
	return sid
}

func (m *idMapped) from(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if orig, ok := m.back[id]; ok {
		return orig
	}
	return id
}

func (m *idMapped) in(e eventstore.Event) eventstore.Event {
	e.ID = m.to(e.AccountID, e.ID)
	return e
}

func (m *idMapped) out(e eventstore.Event) eventstore.Event {
	e.ID = m.from(e.ID)
	return e
}

func (m *idMapped) StoreEvent(ctx context.Context, e eventstore.Event) error {
	return m.s.StoreEvent(ctx, m.in(e))
}

func (m *idMapped) FindEventByID(ctx context.Context, account, id string) (eventstore.Event, error) {
	e, err := m.s.FindEventByID(ctx, account, m.to(account, id))
	return m.out(e), err
}

func (m *idMapped) ListEvents(ctx context.Context, account string, opts eventstore.ListOptions) (eventstore.Page, error) {
	p, err := m.s.ListEvents(ctx, account, opts)
	for i := range p.Events {
		p.Events[i] = m.out(p.Events[i])
	}
	return p, err
}

func (m *idMapped) ScanEvents(ctx context.Context, opts eventstore.ScanOptions) iter.Seq2[eventstore.Event, error] {
	if opts.After != nil {
		k := *opts.After
		k.ID = m.to(k.AccountID, k.ID)
		opts.After = &k
	}
	return func(yield func(eventstore.Event, error) bool) {
		for e, err := range m.s.ScanEvents(ctx, opts) {
			if !yield(m.out(e), err) {
				return
			}
		}
	}
}

func (m *idMapped) StoreEvents(ctx context.Context, events []eventstore.Event) ([]error, error) {
	mapped := make([]eventstore.Event, len(events))
	for i, e := range events {
		mapped[i] = m.in(e)
	}
	return m.s.StoreEvents(ctx, mapped)
}

func (m *idMapped) FindEvents(ctx context.Context, keys []eventstore.EventKey) ([]eventstore.Event, error) {
	mapped := make([]eventstore.EventKey, len(keys))
	for i, k := range keys {
		mapped[i] = eventstore.EventKey{AccountID: k.AccountID, ID: m.to(k.AccountID, k.ID)}
	}
	found, err := m.s.FindEvents(ctx, mapped)
	for i := range found {
		found[i] = m.out(found[i])
	}
	return found, err
}

func (m *idMapped) String() string { return fmt.Sprintf("%T seen through Options.IDs", m.s) }

// canDelete tells the suite whether the store behind the map deletes.
func (m *idMapped) canDelete() bool { _, ok := m.s.(eventstore.EventDeleter); return ok }

func (m *idMapped) DeleteEvent(ctx context.Context, account, id string) error {
	d, ok := m.s.(eventstore.EventDeleter)
	if !ok {
		return errors.ErrUnsupported
	}
	return d.DeleteEvent(ctx, account, m.to(account, id))
}

func (m *idMapped) EraseAccount(ctx context.Context, account string) ([]string, error) {
	d, ok := m.s.(eventstore.EventDeleter)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	ids, err := d.EraseAccount(ctx, account)
	for i := range ids {
		ids[i] = m.from(ids[i])
	}
	return ids, err
}

func (m *idMapped) PurgeTombstones(ctx context.Context, before time.Time) (int, error) {
	p, ok := m.s.(eventstore.TombstonePurger)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	return p.PurgeTombstones(ctx, before)
}

// canPurge tells the suite whether the store behind the map purges.
func (m *idMapped) canPurge() bool { _, ok := m.s.(eventstore.TombstonePurger); return ok }
