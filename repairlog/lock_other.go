//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package repairlog

import "os"

// lockFile is a no-op where flock(2) is missing (Windows, Plan 9, ...):
// writers sharing the file rely on append mode alone, which writes each
// line whole at the end on local file systems, but a torn line left by a
// crashed writer is then only repaired by the next writer of this process.
func lockFile(*os.File) (unlock func() error, err error) { return func() error { return nil }, nil }
