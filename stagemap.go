package flagmigrate

import "github.com/launchdarkly/go-sdk-common/v3/ldmigration"

// Stage names the route of an account's four flags by the LaunchDarkly
// migration stage that routes its calls the same way, so that the two modes
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
func (f FlagState) Stage() (stage ldmigration.Stage, ok bool) {
	wo, wn := f.Writes()
	ro, rn := f.Reads()
	switch {
	case wo && !wn && ro && !rn:
		return ldmigration.Off, true
	case wo && wn && ro && !rn:
		return ldmigration.DualWrite, true
	case wo && wn && ro && rn:
		return ldmigration.Shadow, true
	case wo && wn && !ro && rn:
		return ldmigration.RampDown, true
	case !wo && wn && !ro && rn:
		return ldmigration.Complete, true
	}
	return "", false
}
