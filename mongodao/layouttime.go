package mongodao

import (
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// TimePrecision is what a [Layout] does with a stored time finer than a
// millisecond, the precision of events.
type TimePrecision int

// Time precisions.
const (
	// TimeExact refuses such a document as unreadable, naming the setting
	// that would read it (the default).
	TimeExact TimePrecision = iota
	// TimeTruncate reads such a time truncated to the millisecond. It is
	// lossy: the event holds less than the document, a dual read compares
	// the truncated time, and a copy to another store keeps only
	// milliseconds; [Store.ReadCounts] counts the documents so read.
	TimeTruncate
)

// String returns the name ParseURL reads: exact or truncate.
func (p TimePrecision) String() string {
	switch p {
	case TimeExact:
		return "exact"
	case TimeTruncate:
		return "truncate"
	}
	return "TimePrecision(" + strconv.Itoa(int(p)) + ")"
}

// TimeOffsetMixed is the Layout.TimeOffset of a collection whose RFC 3339
// strings carry various offsets. Reads accept any; writes use UTC ("Z");
// ListEvents reads up to a day of the account's events beyond each page
// (see the package documentation).
const TimeOffsetMixed = "mixed"

// maxOffset bounds an RFC 3339 offset (at most 23:59 either way).
const maxOffset = 24 * time.Hour

// validateTime checks the time settings of a layout.
func (l Layout) validateTime() error {
	switch l.TimePrecision {
	case TimeExact:
	case TimeTruncate:
		if l.TimeFormat != TimeRFC3339 {
			return fmt.Errorf("TimePrecision %s applies to RFC 3339 strings only: a %s time holds milliseconds at most", l.TimePrecision, l.TimeFormat)
		}
	default:
		return fmt.Errorf("unknown TimePrecision %d", l.TimePrecision)
	}
	if l.TimeOffset == "" {
		return nil
	}
	if l.TimeFormat != TimeRFC3339 {
		return fmt.Errorf("TimeOffset %q applies to RFC 3339 strings only", l.TimeOffset)
	}
	if _, err := l.zone(); err != nil {
		return err
	}
	return nil
}

// zone is the fixed zone of the declared offset; nil for UTC ("Z" and
// mixed).
func (l Layout) zone() (*time.Location, error) {
	switch o := l.TimeOffset; o {
	case "", "Z", TimeOffsetMixed:
		return nil, nil
	default:
		t, err := time.Parse("-07:00", o)
		if err != nil || len(o) != 6 {
			return nil, fmt.Errorf("TimeOffset %q: want Z, +hh:mm, -hh:mm or %s", o, TimeOffsetMixed)
		}
		_, secs := t.Zone()
		return time.FixedZone(o, secs), nil
	}
}

// formatTime is t as the layout writes an RFC 3339 string: three fraction
// digits, in the declared offset (a numeric offset even when it is
// +00:00).
func (l Layout) formatTime(t time.Time) string {
	z, _ := l.zone()
	if z == nil {
		return t.UTC().Format(dataTimeLayout)
	}
	return t.In(z).Format("2006-01-02T15:04:05.000-07:00")
}

// stringTimes reports a layout whose ListEvents orders RFC 3339 strings as
// times itself (stringList).
func (l Layout) stringTimes() bool { return l.TimeFormat == TimeRFC3339 }

// secondLayout is the date and time of an RFC 3339 string to the second:
// its first 19 bytes.
const secondLayout = "2006-01-02T15:04:05"

// listWindow returns the string bounds of a list over [start, end): every
// string of a time in that range, in the layout's offset (any offset when
// mixed), is >= lo and < hi. They bound the seconds only: the fraction and
// the offset that follow sort differently by how they are written, so the
// page is ordered by time on the client. lo or hi is "" when unbounded.
func (l Layout) listWindow(start, end time.Time) (lo, hi string) {
	local, slack := l.localSecond, time.Duration(0)
	if l.TimeOffset == TimeOffsetMixed {
		slack = maxOffset
	}
	if s := local(start).Add(-slack); s.Year() >= 1 {
		lo = s.Format(secondLayout)
	}
	if e := local(end).Add(time.Second + slack); e.Year() <= 9999 {
		hi = e.Format(secondLayout)
	}
	return lo, hi
}

// localSecond is t's wall clock in the declared offset, to the second, as
// a UTC time (UTC for mixed).
func (l Layout) localSecond(t time.Time) time.Time {
	z, _ := l.zone()
	if z != nil {
		t = t.In(z)
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// earliestAfter returns a time that every document at or after raw in the
// list's string order is at least as late as, or false when raw's time
// cannot be read (decode then reports it). A fixed offset gives raw's own
// second; mixed offsets a day before the second its string shows. It also
// checks that the string has the declared offset.
func (l Layout) earliestAfter(raw bson.Raw) (time.Time, bool, error) {
	v, err := bsoncore.Document(raw).LookupErr(l.Time)
	if err != nil {
		return time.Time{}, false, nil
	}
	s, ok := v.StringValueOK()
	if !ok || len(s) < len(secondLayout) {
		return time.Time{}, false, nil
	}
	wall, err := time.Parse(secondLayout, s[:len(secondLayout)])
	if err != nil {
		return time.Time{}, false, nil
	}
	if l.TimeOffset == TimeOffsetMixed {
		return wall.Add(-maxOffset), true, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false, nil
	}
	_, got := t.Zone()
	want := 0
	if z, _ := l.zone(); z != nil {
		_, want = time.Unix(0, 0).In(z).Zone()
	}
	if got != want {
		off := "Z"
		if l.TimeOffset != "" {
			off = l.TimeOffset
		}
		return time.Time{}, false, fmt.Errorf("%s: %q is not in the layout's offset %s: RFC 3339 strings with mixed offsets do not sort as times, so ListEvents cannot order them (declare timeoffset=%s)",
			l.Time, s, off, TimeOffsetMixed)
	}
	return wall.Add(-time.Duration(want) * time.Second), true, nil
}
