package migration

import "time"

// Role is a store call's part in an operation.
type Role string

// Roles.
const (
	// RoleAuthoritative: the store written first, or whose read is served.
	RoleAuthoritative Role = "authoritative"
	// RoleSecondary: the other store's write.
	RoleSecondary Role = "secondary"
	// RoleCandidate: the other store's read, compared with the served one.
	RoleCandidate Role = "candidate"
	// RoleRecheck: a background re-read of the authoritative store, made
	// to confirm a shadow comparison that did not match; no caller waits
	// for it.
	RoleRecheck Role = "recheck"
	// RoleProbe: a background write to a store taken as down, to learn
	// whether it is back (flagmigrate.WithStoreBreaker); no caller waits for it.
	RoleProbe Role = "probe"
)

// Outcome classifies a store call's error. Its value is its name in log
// records and metric labels.
type Outcome string

// Outcomes.
const (
	OutcomeOK       Outcome = "ok"        // no error
	OutcomeNotFound Outcome = "not_found" // ErrNotFound (or WithNotFound's)
	OutcomeConflict Outcome = "conflict"  // ErrConflict
	OutcomeInvalid  Outcome = "invalid"   // ErrInvalidEvent, ErrInvalidArgument or eventstore.ErrInvalidCursor
	OutcomeCanceled Outcome = "canceled"  // context.Canceled
	OutcomeTimeout  Outcome = "timeout"   // context.DeadlineExceeded
	OutcomeError    Outcome = "error"     // any other error
)

// StoreCall is one call of one store.
type StoreCall struct {
	Call    // the operation it is part of
	Side    Side
	Role    Role
	Outcome Outcome
	Latency time.Duration
	Err     error
}

// Comparison is the verdict of one dual read.
type Comparison struct {
	Call    // the read compared (Key is the event's ID, when it has one)
	Verdict Verdict
	// Paths lists where the results differ, as field paths such as
	// `Data["plan"]` or `Events[3].Time` (VerdictDifferent only).
	Paths []string
	// Served is the store whose result the caller received.
	Served Side
	// OldErr and NewErr are the stores' errors.
	OldErr, NewErr error
	// Old and New are the stores' results when the verdict is not a match
	// and the store did not fail (else nil). They may hold personal data:
	// log them only if you mean to.
	Old, New any
	Shadow   bool // compared in the background
	// Rechecked is set when a shadow comparison did not match at first and
	// both stores were read again to confirm it; Verdict is the second one.
	Rechecked bool
}

// DropReason says why a dual read compared nothing.
type DropReason string

// Drop reasons.
const (
	// DropFull: MaxInFlight shadow reads were already running.
	DropFull DropReason = "full"
	// DropClosed: the migration was closed.
	DropClosed DropReason = "closed"
	// DropTimeout: the candidate was read, but the caller's authoritative
	// read had not finished within the shadow timeout; nothing was
	// compared.
	DropTimeout DropReason = "timeout"
	// DropCanceled: a dual read the caller waits for (not a shadow read)
	// ended with the caller's context before both stores answered;
	// nothing was compared.
	DropCanceled DropReason = "canceled"
)

// Verdict classifies a dual read: how the new store's result compares with
// the old store's. Its value is its name in log records and metric labels.
type Verdict string

// Verdicts.
const (
	// VerdictMatch: equal results, or both stores found nothing, or both
	// refused the call for the same reason.
	VerdictMatch Verdict = "match"
	// VerdictMissingInNew: the old store found the record, the new did not
	// (typically: not yet backfilled).
	VerdictMissingInNew Verdict = "missing_in_new"
	// VerdictMissingInOld: the new store found the record, the old did not.
	VerdictMissingInOld Verdict = "missing_in_old"
	// VerdictDifferent: both returned a result and they differ; the
	// Comparison's Paths say where.
	VerdictDifferent Verdict = "different"
	// VerdictErrorInOld: the old store failed (whatever the new one did).
	VerdictErrorInOld Verdict = "error_in_old"
	// VerdictErrorInNew: the new store failed, the old one did not.
	VerdictErrorInNew Verdict = "error_in_new"
	// VerdictBehind: both stores hold the record, at different versions:
	// one has not yet received the latest write of a record that changes
	// (it is in flight, or the repair log holds it). It says nothing of
	// either store and is never counted as a mismatch; a record that stays
	// behind is what verify reports, after its re-check.
	VerdictBehind Verdict = "behind"
	// VerdictNotCompared: both returned a result, but the comparison
	// options (flagmigrate.WithCompareOptions) could not be applied to
	// some difference within the comparison's budget; the Comparison's
	// Paths name those places. It is counted apart and never as a
	// mismatch: a comparison that could not be done says nothing of the
	// stores.
	VerdictNotCompared Verdict = "not_compared"
)

// StoreState is a change of a store's health, as a Migration's breaker
// sees it (flagmigrate.WithStoreBreaker).
type StoreState struct {
	Side Side
	// Down is true when the store was taken as down (its writes now go
	// straight to the repair log), false when a probe found it back.
	Down bool
	// Failures is, when Down, the consecutive failed writes that took the
	// store down; when back, the probes that failed before one landed.
	Failures int
	// Skipped is, when back, the writes that went straight to the repair
	// log while the store was down.
	Skipped int64
	// Err is, when Down, the last failure.
	Err error
}

// BrakeReason says which rate tripped a brake.
type BrakeReason string

// Brake reasons.
const (
	// BrakeErrors: the new store's error rate.
	BrakeErrors BrakeReason = "errors"
	// BrakeMismatches: the dual reads' mismatch rate.
	BrakeMismatches BrakeReason = "mismatches"
)

// BrakeState is one account's brake: as flagmigrate.Migration.Brakes lists the
// braked accounts, and as [Observer].BrakeChanged reports a change, which
// is a trip (CannotHelp false, Released empty), a brake unable to help
// (CannotHelp), or a release (Released says why).
type BrakeState struct {
	AccountID string
	Reason    BrakeReason
	// Samples and Bad are the window's samples of the reason's kind when
	// the brake tripped, and the failed or mismatched ones among them.
	Samples, Bad int
	// Threshold is the rate Bad/Samples passed.
	Threshold float64
	// Since is when the brake tripped; Until when the cooldown ends (zero
	// if it holds until a flag change).
	Since, Until time.Time
	// CannotHelp: the flags route the account to the new store only, so
	// no safe route exists; its calls go where the flags say.
	CannotHelp bool
	// Released is why the brake was released, in the report of a release;
	// empty while the brake holds.
	Released BrakeRelease
}

// BrakeRelease says why a brake was released.
type BrakeRelease string

// Release causes.
const (
	// ReleaseFlagChange: the route the account's flags give changed.
	ReleaseFlagChange BrakeRelease = "flag_change"
	// ReleaseCooldown: the cooldown ended.
	ReleaseCooldown BrakeRelease = "cooldown"
)
