package flagmigrate

import (
	"context"
	"errors"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
	"github.com/flagmigrate/flagmigrate/migration"
	"github.com/google/go-cmp/cmp"
)

// MigratingStore is an [EventStore] that moves accounts from an old store
// to a new one by flags: it routes each call by the account's flags, writes
// the authoritative store first and the other after it (recording failures
// for repair), and compares dual reads while serving the incumbent's result.
// It drops in wherever the old store was used.
//
// Routing by the four boolean flags ([FlagKeys]), per call:
//
//	writes: the stores whose write flag is on (the old store when none is).
//	  When both, the authoritative store first: the new store if it alone
//	  is read, else the old store. A write evaluates the two write flags,
//	  and the two read flags only when both write flags are on.
//	reads: the stores whose read flag is on (the old store when none is).
//	  When both, both are read and compared and the old store's result and
//	  error are returned, even when they differ. A read evaluates the two
//	  read flags.
//	a flag that cannot be evaluated: the old store only.
//
// [WithStageFlag] routes by one migration flag holding a [Stage] instead.
//
// StoreEvent validates and canonicalises the event once, before any store is
// touched, so that both stores receive the same canonical event and a dual
// write is never refused by one store and accepted by the other for a
// reason the event carries; ListEvents checks its options the same way.
// Stores that canonicalise with [CanonicalEvent] (this module's do) trust
// that event instead of canonicalising it again.
//
// MigratingStore does not implement [eventstore.EventScanner], [eventstore.BatchStorer] or
// [eventstore.BatchFinder]: whole-store scans and batches are the backfill's work and
// run on the two stores directly, not through per-account flags.
type MigratingStore struct {
	m *Migration[EventStore]
}

var _ EventStore = (*MigratingStore)(nil)

// NewMigratingStore returns a MigratingStore from old to new, routed by
// flags: a LaunchDarkly client through package ldflags
// (ldflags.New(client)), an OpenFeature client through package
// openfeatureflags, or package flagtest's fake. Errors for
// missing parts and invalid options match [ErrInvalidArgument].
func NewMigratingStore(old, new EventStore, flags FlagClient, opts ...Option) (*MigratingStore, error) {
	m, err := NewMigration(old, new, flags, opts...)
	if err != nil {
		return nil, err
	}
	return &MigratingStore{m: m}, nil
}

// StoreEvent implements [EventStore]: it canonicalises evt, checks it with
// each store that is an [eventstore.EventValidator] (both, whatever the flags, so that
// the write can always be rolled back), then writes it as [Write] does.
func (s *MigratingStore) StoreEvent(ctx context.Context, evt Event) error {
	c, err := evt.Canonical()
	if err != nil {
		return err
	}
	for _, st := range []EventStore{s.m.old, s.m.new} {
		if v, ok := st.(eventstore.EventValidator); ok {
			if err := v.ValidateEvent(c); err != nil {
				return err
			}
		}
	}
	// The stores trust c through the mark (CanonicalEvent) instead of
	// canonicalising it again.
	return Write(&canonicalCtx{ctx, c}, s.m, Call{Op: eventstore.OpStoreEvent, AccountID: c.AccountID, Key: c.ID}, writeCanonical)
}

// FindEventByID implements [EventStore], reading as [Read] does. Not
// finding the event in one store while the other has it is a mismatch
// (missing in old or in new).
func (s *MigratingStore) FindEventByID(ctx context.Context, accountID, id string) (Event, error) {
	return Read(ctx, s.m, Call{Op: eventstore.OpFindEventByID, AccountID: accountID, Key: id},
		func(ctx context.Context, st EventStore) (Event, error) { return st.FindEventByID(ctx, accountID, id) })
}

// ListEvents implements [EventStore], reading as [Read] does; on a dual read
// the two pages (events and next cursor) are compared.
func (s *MigratingStore) ListEvents(ctx context.Context, accountID string, opts ListOptions) (Page, error) {
	if _, err := opts.Query(accountID); err != nil {
		return Page{}, err
	}
	return Read(ctx, s.m, Call{Op: eventstore.OpListEvents, AccountID: accountID},
		func(ctx context.Context, st EventStore) (Page, error) { return st.ListEvents(ctx, accountID, opts) })
}

// RepairLog returns the repair log in use: the one given with
// [WithRepairLog], or the default in-memory one (a [RepairReader]), whose
// entries the backfill's repair can replay.
func (s *MigratingStore) RepairLog() RepairLog { return s.m.RepairLog() }

// Flush waits until the shadow reads in flight when it was called have
// finished, or ctx is done. See [Migration.Flush].
func (s *MigratingStore) Flush(ctx context.Context) error { return s.m.Flush(ctx) }

// Brakes returns the accounts braked now ([WithBrake]). See
// [Migration.Brakes].
func (s *MigratingStore) Brakes() []BrakeState { return s.m.Brakes() }

// Close stops new shadow reads and waits for those in flight. It does not
// close the stores. See [Migration.Close].
func (s *MigratingStore) Close() error { return s.m.Close() }

// Option configures a [Migration] or a [MigratingStore].
type Option func(*config)

type config struct {
	// flags.go
	keys       FlagKeys
	stageKey   string
	checkEvery time.Duration
	// observer.go, compare.go
	observer    Observer // filled by validate
	observerSet bool
	// callsObserved: the observer has a StoreCalled of its own (the
	// hottest report, skipped when nobody listens)
	callsObserved bool
	cmpOpts       cmp.Options
	customCmp     bool
	notFound      func(error) bool
	sampling      sampling
	// repairlog.go
	repair             RepairLog
	defaultRepairLimit int // the default repair log's capacity
	// migrate.go
	secondaryTimeout time.Duration
	concurrentWrites bool
	breaker          BreakerOptions // breaker.go
	brake            *BrakeOptions  // brake.go
	shadow           *ShadowOptions

	errs []error
}

// Defaults.
const (
	// defaultSecondaryTimeout bounds the write to the non-authoritative store.
	defaultSecondaryTimeout = 5 * time.Second
	// defaultShadowTimeout bounds a background candidate read.
	defaultShadowTimeout = 2 * time.Second
	// defaultShadowMaxInFlight bounds the background candidate reads in flight.
	defaultShadowMaxInFlight = 64
	// defaultRoutingCheckInterval is how often each account's four flags are
	// checked for a dangerous combination.
	defaultRoutingCheckInterval = time.Minute
)

func defaultConfig() config {
	return config{
		keys:               DefaultFlagKeys(),
		checkEvery:         defaultRoutingCheckInterval,
		cmpOpts:            defaultCompareOptions(),
		notFound:           func(err error) bool { return errors.Is(err, ErrNotFound) },
		sampling:           sampling{rate: 1},
		secondaryTimeout:   defaultSecondaryTimeout,
		defaultRepairLimit: defaultRepairLimit,
	}
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, argError(format, args...))
}

// validate reports the options' errors and fills in the defaults that
// depend on other options.
func (c *config) validate() error {
	if !c.observerSet {
		c.observer = SlogObserver(nil, false)
	}
	c.callsObserved = c.observer.StoreCalled != nil
	c.observer = migration.MultiObserver(c.observer) // each hook guarded
	if c.repair == nil {
		obs := c.observer
		c.repair = newRingRepairLog(c.defaultRepairLimit, func(e RepairEntry) {
			if obs.RepairDropped != nil {
				obs.RepairDropped(context.Background(), e)
			}
		})
	}
	return errors.Join(c.errs...)
}

// WithSecondaryTimeout bounds the write to the non-authoritative store, which
// runs on a context detached from the caller's cancellation (default
// 5 seconds). It also bounds recording a repair entry, and the candidate
// read of a dual read that the caller waits for (one that is not a shadow
// read, whose candidate has [ShadowOptions].Timeout instead): a candidate
// store that hangs then costs each such read this long, and the read is
// compared as failed in the new store (or the old, when the new store
// serves).
func WithSecondaryTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.fail("WithSecondaryTimeout: %v is not positive", d)
			return
		}
		c.secondaryTimeout = d
	}
}

// WithConcurrentWrites writes both stores at once instead of one after the
// other, so a dual write takes as long as the slower store rather than the
// sum of both. The cost: when the authoritative write fails, the other store
// may already hold the write the caller is told failed. Such an orphan is
// reported and recorded in the repair log (RepairEntry.Orphan) with the
// authoritative store as its target; an idempotent retry by the caller, or a
// repair run, brings the stores back together.
func WithConcurrentWrites() Option {
	return func(c *config) { c.concurrentWrites = true }
}

// ShadowOptions configure background comparison reads ([WithShadowReads]).
type ShadowOptions struct {
	// Timeout bounds each background candidate read; 0 means
	// 2 seconds.
	Timeout time.Duration
	// MaxInFlight bounds the background reads running at once; a dual read
	// beyond it serves the authoritative store only and is counted as
	// dropped. 0 means 64.
	MaxInFlight int
}

// WithShadowReads makes dual reads return the authoritative result as soon
// as it is read, while the candidate read and the comparison run in the
// background: the candidate's latency and failures never reach the caller.
// The candidate read is handed to a background worker just before the
// authoritative read starts, so both reads see the stores at nearly the same
// moment; waking that worker is all the caller pays.
// Background reads are bounded (excess dropped and counted via
// [Observer].ShadowDropped), each has its own timeout, and [Migration.Close]
// waits for them.
//
// Because the two reads are not atomic, a write landing between them could
// look like a mismatch: a shadow comparison whose results differ or miss a
// record is confirmed by reading both stores again (concurrently) before it
// is reported ([Comparison].Rechecked).
func WithShadowReads(o ShadowOptions) Option {
	return func(c *config) {
		if o.Timeout < 0 || o.MaxInFlight < 0 {
			c.fail("WithShadowReads: negative Timeout (%v) or MaxInFlight (%d)", o.Timeout, o.MaxInFlight)
			return
		}
		if o.Timeout == 0 {
			o.Timeout = defaultShadowTimeout
		}
		if o.MaxInFlight == 0 {
			o.MaxInFlight = defaultShadowMaxInFlight
		}
		c.shadow = &o
	}
}

// flagFailed reports a flag failure to the observer, if it listens.
func (c *config) flagFailed(ctx context.Context, key, accountID string, err error) {
	if f := c.observer.FlagFailed; f != nil {
		f(ctx, key, accountID, err)
	}
}
