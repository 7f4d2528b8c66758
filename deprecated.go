package flagmigrate

import "github.com/flagmigrate/flagmigrate/migration"

// The vocabulary of the migration moved to package migration in 0.x; these
// aliases keep code written against this package compiling for one more
// release. Use the names of package migration instead.

// Deprecated aliases of package migration's types.
type (
	Side         = migration.Side         // Deprecated: use [migration.Side].
	WriteKind    = migration.WriteKind    // Deprecated: use [migration.WriteKind].
	Stage        = migration.Stage        // Deprecated: use [migration.Stage].
	FlagState    = migration.FlagState    // Deprecated: use [migration.FlagState].
	Danger       = migration.Danger       // Deprecated: use [migration.Danger].
	Role         = migration.Role         // Deprecated: use [migration.Role].
	Outcome      = migration.Outcome      // Deprecated: use [migration.Outcome].
	StoreCall    = migration.StoreCall    // Deprecated: use [migration.StoreCall].
	Comparison   = migration.Comparison   // Deprecated: use [migration.Comparison].
	DropReason   = migration.DropReason   // Deprecated: use [migration.DropReason].
	Verdict      = migration.Verdict      // Deprecated: use [migration.Verdict].
	StoreState   = migration.StoreState   // Deprecated: use [migration.StoreState].
	BrakeReason  = migration.BrakeReason  // Deprecated: use [migration.BrakeReason].
	BrakeState   = migration.BrakeState   // Deprecated: use [migration.BrakeState].
	BrakeRelease = migration.BrakeRelease // Deprecated: use [migration.BrakeRelease].
	RepairEntry  = migration.RepairEntry  // Deprecated: use [migration.RepairEntry].
	RepairLog    = migration.RepairLog    // Deprecated: use [migration.RepairLog].
	RepairReader = migration.RepairReader // Deprecated: use [migration.RepairReader].
	Observer     = migration.Observer     // Deprecated: use [migration.Observer].
)

// Deprecated aliases of package migration's constants.
const (
	SideOld                 = migration.SideOld                 // Deprecated: use [migration.SideOld].
	SideNew                 = migration.SideNew                 // Deprecated: use [migration.SideNew].
	KindWrite               = migration.KindWrite               // Deprecated: use [migration.KindWrite].
	KindDelete              = migration.KindDelete              // Deprecated: use [migration.KindDelete].
	KindErase               = migration.KindErase               // Deprecated: use [migration.KindErase].
	StageOff                = migration.StageOff                // Deprecated: use [migration.StageOff].
	StageDualWrite          = migration.StageDualWrite          // Deprecated: use [migration.StageDualWrite].
	StageShadow             = migration.StageShadow             // Deprecated: use [migration.StageShadow].
	StageLive               = migration.StageLive               // Deprecated: use [migration.StageLive].
	StageRampDown           = migration.StageRampDown           // Deprecated: use [migration.StageRampDown].
	StageComplete           = migration.StageComplete           // Deprecated: use [migration.StageComplete].
	DangerNewReadNotWritten = migration.DangerNewReadNotWritten // Deprecated: use [migration.DangerNewReadNotWritten].
	DangerOldReadNotWritten = migration.DangerOldReadNotWritten // Deprecated: use [migration.DangerOldReadNotWritten].
	RoleAuthoritative       = migration.RoleAuthoritative       // Deprecated: use [migration.RoleAuthoritative].
	RoleSecondary           = migration.RoleSecondary           // Deprecated: use [migration.RoleSecondary].
	RoleCandidate           = migration.RoleCandidate           // Deprecated: use [migration.RoleCandidate].
	RoleRecheck             = migration.RoleRecheck             // Deprecated: use [migration.RoleRecheck].
	RoleProbe               = migration.RoleProbe               // Deprecated: use [migration.RoleProbe].
	OutcomeOK               = migration.OutcomeOK               // Deprecated: use [migration.OutcomeOK].
	OutcomeNotFound         = migration.OutcomeNotFound         // Deprecated: use [migration.OutcomeNotFound].
	OutcomeConflict         = migration.OutcomeConflict         // Deprecated: use [migration.OutcomeConflict].
	OutcomeInvalid          = migration.OutcomeInvalid          // Deprecated: use [migration.OutcomeInvalid].
	OutcomeCanceled         = migration.OutcomeCanceled         // Deprecated: use [migration.OutcomeCanceled].
	OutcomeTimeout          = migration.OutcomeTimeout          // Deprecated: use [migration.OutcomeTimeout].
	OutcomeError            = migration.OutcomeError            // Deprecated: use [migration.OutcomeError].
	DropFull                = migration.DropFull                // Deprecated: use [migration.DropFull].
	DropClosed              = migration.DropClosed              // Deprecated: use [migration.DropClosed].
	DropTimeout             = migration.DropTimeout             // Deprecated: use [migration.DropTimeout].
	VerdictMatch            = migration.VerdictMatch            // Deprecated: use [migration.VerdictMatch].
	VerdictMissingInNew     = migration.VerdictMissingInNew     // Deprecated: use [migration.VerdictMissingInNew].
	VerdictMissingInOld     = migration.VerdictMissingInOld     // Deprecated: use [migration.VerdictMissingInOld].
	VerdictDifferent        = migration.VerdictDifferent        // Deprecated: use [migration.VerdictDifferent].
	VerdictErrorInOld       = migration.VerdictErrorInOld       // Deprecated: use [migration.VerdictErrorInOld].
	VerdictErrorInNew       = migration.VerdictErrorInNew       // Deprecated: use [migration.VerdictErrorInNew].
	BrakeErrors             = migration.BrakeErrors             // Deprecated: use [migration.BrakeErrors].
	BrakeMismatches         = migration.BrakeMismatches         // Deprecated: use [migration.BrakeMismatches].
	ReleaseFlagChange       = migration.ReleaseFlagChange       // Deprecated: use [migration.ReleaseFlagChange].
	ReleaseCooldown         = migration.ReleaseCooldown         // Deprecated: use [migration.ReleaseCooldown].
)

// MultiObserver is [migration.MultiObserver].
//
// Deprecated: use [migration.MultiObserver].
func MultiObserver(obs ...Observer) Observer { return migration.MultiObserver(obs...) }
