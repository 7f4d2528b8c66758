package flagmigrate

import "time"

// SetDefaultRepairLimit shrinks the default repair log's capacity for a
// test (which must not run in parallel), returning the restore function.
func SetDefaultRepairLimit(n int) (restore func()) {
	old := defaultRepairLimit
	defaultRepairLimit = n
	return func() { defaultRepairLimit = old }
}

// SetLogRepeatEvery sets how often the default observer repeats a log line
// of one kind, for observers made after it; it returns the restore function.
func SetLogRepeatEvery(d time.Duration) (restore func()) {
	old := logRepeatEvery
	logRepeatEvery = d
	return func() { logRepeatEvery = old }
}
