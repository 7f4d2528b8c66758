package backfill

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// DiffKind is the kind of a [Difference]. Its names follow those of
// [migration.Verdict] (lower case, underscores), with the sides of a copy:
// the source and the destination.
type DiffKind string

// Kinds of [Difference].
const (
	MissingInDestination DiffKind = "missing_in_destination"
	MissingInSource      DiffKind = "missing_in_source"
	Different            DiffKind = "different"
)

// diffKinds are the kinds in the order a report lists them.
var diffKinds = [...]DiffKind{MissingInDestination, MissingInSource, Different}

// VerifyOptions tune [Verify].
type VerifyOptions struct {
	// Accounts, when set, verifies only these accounts.
	Accounts []string
	// BatchSize is how many events are looked up at once (whole-store
	// runs): 0 for DefaultBatchSize, at most [MaxBatchSize].
	BatchSize int
	// MaxReported caps Report.Differences (the counts stay exact); 0 means
	// 100, at most [MaxReportedLimit]. When there are more, the sample
	// keeps some of each kind found.
	MaxReported int
	// ShowValues puts both values of each differing field in the report.
	// Off by default: events can hold personal data.
	ShowValues bool
	// Rate limits the events read, from both stores together, to this many
	// per second, to spare stores that serve traffic: 0 is unlimited, else
	// a finite number up to [MaxRate].
	Rate float64
	// Progress, when set, is called every ProgressEvery (default
	// [DefaultProgressEvery]) while events are read, and once at the end,
	// also when the run stops early.
	Progress func(VerifyProgress)
	// ProgressEvery is the least interval between two Progress calls.
	ProgressEvery time.Duration
}

// Difference is one event on which the stores disagree.
type Difference struct {
	Kind DiffKind            `json:"kind"`
	Key  eventstore.EventKey `json:"key"`
	// Fields are the paths that differ, as [eventstore.Event.Diff] names
	// them, in its order: Type, Time, Data["a"]["b"][2] (the paths a dual
	// read's comparison reports).
	Fields []string `json:"fields,omitempty"`
	// Values holds "source → destination" per field, only with ShowValues.
	Values map[string]string `json:"values,omitempty"`
}

// Report is the outcome of [Verify].
type Report struct {
	SourceEvents         int64        `json:"sourceEvents"`
	DestinationEvents    int64        `json:"destinationEvents"`
	Matching             int64        `json:"matching"`
	MissingInDestination int64        `json:"missingInDestination"`
	MissingInSource      int64        `json:"missingInSource"`
	Different            int64        `json:"different"`
	Differences          []Difference `json:"differences,omitempty"`
	// Truncated is true when more differences were found than reported.
	Truncated bool `json:"truncated,omitempty"`
	// Unreadable counts stored records (on either side) that are not
	// readable events; they are not compared. UnreadableRecords lists them,
	// at most MaxReported.
	Unreadable        int64        `json:"unreadable,omitempty"`
	UnreadableRecords []Unreadable `json:"unreadableRecords,omitempty"`
	// Accounts counts per account what the totals above count.
	Accounts map[string]*AccountCounts `json:"accounts,omitempty"`
	// Partial is true when the run stopped early (an error, a
	// cancellation): the report holds what was compared until then.
	Partial bool `json:"partial,omitempty"`
}

// AccountCounts are one account's counts in a [Report].
type AccountCounts struct {
	SourceEvents         int64 `json:"sourceEvents"`
	DestinationEvents    int64 `json:"destinationEvents"`
	Matching             int64 `json:"matching"`
	MissingInDestination int64 `json:"missingInDestination"`
	MissingInSource      int64 `json:"missingInSource"`
	Different            int64 `json:"different"`
}

// Clean reports whether the account's events agree.
func (c AccountCounts) Clean() bool {
	return c.MissingInDestination == 0 && c.MissingInSource == 0 && c.Different == 0
}

// Unreadable is a stored record that a scan could not read as an event.
type Unreadable struct {
	Side   string `json:"side"`   // "source" or "destination"
	Record string `json:"record"` // as the store names it, such as `_id ObjectID("...")`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// UnreadableOf describes u for a report.
func UnreadableOf(side string, u *eventstore.UnreadableError) Unreadable {
	reason := ""
	if u.Err != nil {
		reason = u.Err.Error()
	}
	return Unreadable{Side: side, Record: u.Record, Field: u.Field, Reason: reason}
}

// String is one line: the record, the field and the reason.
func (u Unreadable) String() string {
	if u.Field == "" {
		return fmt.Sprintf("%s %s: %s", u.Side, u.Record, u.Reason)
	}
	return fmt.Sprintf("%s %s: %s: %s", u.Side, u.Record, u.Field, u.Reason)
}

// Clean reports whether the stores agree on every event they can read
// (Unreadable records are not events; see Report.Unreadable).
func (r Report) Clean() bool {
	return r.MissingInDestination == 0 && r.MissingInSource == 0 && r.Different == 0
}

// String is a one-line human summary.
func (r Report) String() string {
	verdict := "CLEAN"
	switch {
	case !r.Clean():
		verdict = "DIFFERENCES"
	case r.Partial:
		verdict = "INCOMPLETE" // no difference so far, but not everything was compared
	}
	s := fmt.Sprintf("%s: source %d, destination %d, matching %d, missing in destination %d, missing in source %d, different %d",
		verdict, r.SourceEvents, r.DestinationEvents, r.Matching, r.MissingInDestination, r.MissingInSource, r.Different)
	if r.Unreadable > 0 {
		s += fmt.Sprintf(", unreadable %d (not compared)", r.Unreadable)
	}
	return s
}

// Verify streams both stores and reports events missing on either side and
// events that differ, with memory independent of the stores' size. With
// Accounts, each account's two ID-ordered scans are merged by key; for a
// whole store (whose scan orders differ between stores), each store's scan is
// looked up in the other in batches. Records a scan cannot read
// ([eventstore.ErrUnreadable]) are counted and listed in the report, not
// compared, and the scan goes on.
func Verify(ctx context.Context, src, dst eventstore.EventStore, opts VerifyOptions) (Report, error) {
	ss, ok1 := src.(eventstore.EventScanner)
	ds, ok2 := dst.(eventstore.EventScanner)
	if !ok1 || !ok2 {
		return Report{}, fmt.Errorf("backfill: %w: verify needs two stores that implement eventstore.EventScanner", eventstore.ErrInvalidArgument)
	}
	if err := opts.validate(); err != nil {
		return Report{}, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxReported <= 0 {
		opts.MaxReported = 100
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = DefaultProgressEvery
	}
	v := &verifier{opts: opts, r: Report{Accounts: map[string]*AccountCounts{}}, pace: newVerifyPace(ctx, opts, src, dst)}
	err := v.run(ctx, ss, ds, src, dst)
	r := v.report()
	r.Partial = err != nil
	v.pace.finish(&r, err)
	return r, err
}

// run compares the stores into v.r; after an error or a cancellation v.r
// holds what was compared so far.
func (v *verifier) run(ctx context.Context, ss, ds eventstore.EventScanner, src, dst eventstore.EventStore) error {
	opts := v.opts
	if len(opts.Accounts) > 0 {
		for _, a := range opts.Accounts {
			if err := v.merge(ctx, ss.ScanEvents(ctx, eventstore.ScanOptions{AccountID: a}), ds.ScanEvents(ctx, eventstore.ScanOptions{AccountID: a})); err != nil {
				return err
			}
		}
		return nil
	}
	// Source events: found, missing or different in the destination.
	err := v.lookup(ctx, "source", ss, dst, func(e eventstore.Event, other *eventstore.Event) {
		v.r.SourceEvents++
		v.account(e.AccountID).SourceEvents++
		v.compare(&e, other)
	})
	if err != nil {
		return err
	}
	// Destination events: only those missing in the source are new findings.
	return v.lookup(ctx, "destination", ds, src, func(e eventstore.Event, other *eventstore.Event) {
		v.r.DestinationEvents++
		v.account(e.AccountID).DestinationEvents++
		if other == nil {
			v.compare(nil, &e)
		}
	})
}

type verifier struct {
	opts VerifyOptions
	r    Report
	// sample holds up to MaxReported differences of each kind; report
	// takes MaxReported of them, some of each kind.
	sample map[DiffKind][]Difference
	pace   *verifyPace
}

func (v *verifier) account(id string) *AccountCounts {
	c := v.r.Accounts[id]
	if c == nil {
		c = &AccountCounts{}
		v.r.Accounts[id] = c
	}
	return c
}

// report is v.r with its sample of differences: taken in turn from each
// kind, so that every kind found is listed even when one kind has
// thousands.
func (v *verifier) report() Report {
	r := v.r
	r.Differences = nil
	for i := 0; len(r.Differences) < v.opts.MaxReported; i++ {
		took := false
		for _, k := range diffKinds {
			if ds := v.sample[k]; i < len(ds) && len(r.Differences) < v.opts.MaxReported {
				r.Differences = append(r.Differences, ds[i])
				took = true
			}
		}
		if !took {
			break
		}
	}
	if int64(len(r.Differences)) < r.MissingInDestination+r.MissingInSource+r.Different {
		r.Truncated = true
	}
	// Kinds first, in their order, then by key: a stable listing.
	order := map[DiffKind]int{MissingInDestination: 0, MissingInSource: 1, Different: 2}
	slices.SortStableFunc(r.Differences, func(a, b Difference) int {
		if c := order[a.Kind] - order[b.Kind]; c != 0 {
			return c
		}
		if c := strings.Compare(a.Key.AccountID, b.Key.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.Key.ID, b.Key.ID)
	})
	if len(r.Accounts) == 0 {
		r.Accounts = nil
	}
	return r
}

// lookup scans s in batches and calls fn with each event and its counterpart
// in other (nil when absent).
func (v *verifier) lookup(ctx context.Context, side string, s eventstore.EventScanner, other eventstore.EventStore, fn func(eventstore.Event, *eventstore.Event)) error {
	batch := make([]eventstore.Event, 0, v.opts.BatchSize)
	flush := func() error {
		found, err := findAll(ctx, other, batch)
		if err != nil {
			return fmt.Errorf("backfill: verify lookup: %w", err)
		}
		for _, e := range batch {
			if o, ok := found[e.Key()]; ok {
				fn(e, &o)
			} else {
				fn(e, nil)
			}
		}
		batch = batch[:0]
		return nil
	}
	for e, err := range s.ScanEvents(ctx, eventstore.ScanOptions{BatchSize: v.opts.BatchSize}) {
		if err == nil || v.isUnreadable(err) {
			if err := v.pace.tick(ctx, &v.r); err != nil {
				return err
			}
		}
		if v.unreadable(side, err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("backfill: verify scan: %w", err)
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// merge walks two ID-ordered scans of one account side by side.
func (v *verifier) merge(ctx context.Context, a, b iter.Seq2[eventstore.Event, error]) error {
	nextA, stopA := iter.Pull2(a)
	defer stopA()
	nextB, stopB := iter.Pull2(b)
	defer stopB()
	pull := func(side string, next func() (eventstore.Event, error, bool)) (*eventstore.Event, error) {
		e, err, ok := next()
		for ok && v.unreadable(side, err) {
			if err := v.pace.tick(ctx, &v.r); err != nil {
				return nil, err
			}
			e, err, ok = next()
		}
		if !ok {
			return nil, nil
		}
		if err == nil {
			if err := v.pace.tick(ctx, &v.r); err != nil {
				return nil, err
			}
		}
		if err != nil {
			return nil, fmt.Errorf("backfill: verify scan: %w", err)
		}
		return &e, nil
	}
	ea, err := pull("source", nextA)
	if err != nil {
		return err
	}
	eb, err := pull("destination", nextB)
	if err != nil {
		return err
	}
	for ea != nil || eb != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case eb == nil || (ea != nil && ea.ID < eb.ID):
			v.r.SourceEvents++
			v.account(ea.AccountID).SourceEvents++
			v.compare(ea, nil)
			ea, err = pull("source", nextA)
		case ea == nil || eb.ID < ea.ID:
			v.r.DestinationEvents++
			v.account(eb.AccountID).DestinationEvents++
			v.compare(nil, eb)
			eb, err = pull("destination", nextB)
		default:
			v.r.SourceEvents++
			v.r.DestinationEvents++
			c := v.account(ea.AccountID)
			c.SourceEvents++
			c.DestinationEvents++
			v.compare(ea, eb)
			if ea, err = pull("source", nextA); err == nil {
				eb, err = pull("destination", nextB)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (v *verifier) isUnreadable(err error) bool {
	var u *eventstore.UnreadableError
	return errors.As(err, &u)
}

// unreadable records err when it is an unreadable record, which the scan
// goes on past.
func (v *verifier) unreadable(side string, err error) bool {
	var u *eventstore.UnreadableError
	if !errors.As(err, &u) {
		return false
	}
	v.r.Unreadable++
	if len(v.r.UnreadableRecords) < v.opts.MaxReported {
		v.r.UnreadableRecords = append(v.r.UnreadableRecords, UnreadableOf(side, u))
	} else {
		v.r.Truncated = true
	}
	return true
}

// compare records one key's outcome; a or b is nil when absent on that side.
func (v *verifier) compare(a, b *eventstore.Event) {
	var d Difference
	switch {
	case b == nil:
		v.r.MissingInDestination++
		v.account(a.AccountID).MissingInDestination++
		d = Difference{Kind: MissingInDestination, Key: a.Key()}
	case a == nil:
		v.r.MissingInSource++
		v.account(b.AccountID).MissingInSource++
		d = Difference{Kind: MissingInSource, Key: b.Key()}
	default:
		diffs := a.Diff(*b)
		if len(diffs) == 0 {
			v.r.Matching++
			v.account(a.AccountID).Matching++
			return
		}
		v.r.Different++
		v.account(a.AccountID).Different++
		d = Difference{Kind: Different, Key: a.Key()}
		if v.opts.ShowValues {
			d.Values = make(map[string]string, len(diffs))
		}
		for _, x := range diffs {
			d.Fields = append(d.Fields, x.Path)
			if d.Values != nil && x.Old+x.New != "" { // not the count of those left out
				d.Values[x.Path] = x.Old + " → " + x.New
			}
		}
	}
	if v.sample == nil {
		v.sample = map[DiffKind][]Difference{}
	}
	if len(v.sample[d.Kind]) < v.opts.MaxReported {
		v.sample[d.Kind] = append(v.sample[d.Kind], d)
	}
}
