package migration

// Stage is a migration stage: the route of an account's calls in stage
// mode (flagmigrate.WithStageFlag), named as LaunchDarkly names its migration stages.
// A flag value that names no stage routes as [StageOff].
type Stage string

// The stages, in the order a migration goes through them.
const (
	StageOff       Stage = "off"       // old only
	StageDualWrite Stage = "dualwrite" // writes to both, old first; reads old
	StageShadow    Stage = "shadow"    // writes to both, old first; reads both, old served
	StageLive      Stage = "live"      // writes to both, new first; reads both, new served
	StageRampDown  Stage = "rampdown"  // writes to both, new first; reads new
	StageComplete  Stage = "complete"  // new only
)

// Stage names the route of an account's four flags by the migration stage
// that routes its calls the same way, so that the two modes
// (flagmigrate.FlagKeys and flagmigrate.WithStageFlag) share one vocabulary:
//
//	old write  new write  old read  new read  route      stage
//	on         off        on        off       old only   off
//	on         on         on        off       dual write dualwrite
//	on         on         on        on        shadow     shadow (old served, new compared)
//	on         on         off       on        new reads  rampdown
//	off        on         off       on        new only   complete
//
// ok is false exactly for the combinations with a [Danger] (a store read
// that is not written): every safe combination is one of the five stages
// above. LaunchDarkly's live stage (new served, old
// compared) has no four-flag route: with both read flags on, the old store
// is served. The missing-flag defaults apply first ([FlagState.Writes],
// [FlagState.Reads]): all four off is the off stage.
func (f FlagState) Stage() (stage Stage, ok bool) {
	wo, wn := f.Writes()
	ro, rn := f.Reads()
	switch {
	case wo && !wn && ro && !rn:
		return StageOff, true
	case wo && wn && ro && !rn:
		return StageDualWrite, true
	case wo && wn && ro && rn:
		return StageShadow, true
	case wo && wn && !ro && rn:
		return StageRampDown, true
	case !wo && wn && !ro && rn:
		return StageComplete, true
	}
	return "", false
}

// FlagState is the four flags' values for one account.
type FlagState struct {
	OldWrite, NewWrite, OldRead, NewRead bool
}

// Writes returns the stores a write goes to: the old store when neither
// write flag is on.
func (f FlagState) Writes() (old, new bool) {
	if !f.OldWrite && !f.NewWrite {
		return true, false
	}
	return f.OldWrite, f.NewWrite
}

// Reads returns the stores a read goes to: the old store when neither read
// flag is on.
func (f FlagState) Reads() (old, new bool) {
	if !f.OldRead && !f.NewRead {
		return true, false
	}
	return f.OldRead, f.NewRead
}

// Authoritative returns the store reads are served from, which writes go to
// first: the new store when only it is read, else the old store.
func (f FlagState) Authoritative() Side {
	if o, n := f.Reads(); n && !o {
		return SideNew
	}
	return SideOld
}

// Danger reports whether the combination is legal but dangerous: whether a
// store is read (served or compared) that is not written. It returns ""
// for a safe combination.
func (f FlagState) Danger() Danger {
	wo, wn := f.Writes()
	ro, rn := f.Reads()
	switch {
	case rn && !wn:
		return DangerNewReadNotWritten
	case ro && !wo:
		return DangerOldReadNotWritten
	}
	return ""
}

// Danger names a legal but dangerous flag combination; its value is its
// name in log records and metric labels.
type Danger string

// Dangers.
const (
	// DangerNewReadNotWritten: the new store is read while it is not
	// written, so it misses the account's latest events.
	DangerNewReadNotWritten Danger = "new_read_not_written"
	// DangerOldReadNotWritten: old writes are off while the old store is
	// still read, so it misses the account's latest events.
	DangerOldReadNotWritten Danger = "old_read_not_written"
)
