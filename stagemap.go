package flagmigrate

// Stage is a migration stage: the route of an account's calls in stage
// mode ([WithStageFlag]), named as LaunchDarkly names its migration stages.
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
// ([FlagKeys] and [WithStageFlag]) share one vocabulary:
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
