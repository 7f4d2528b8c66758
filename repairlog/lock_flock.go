//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package repairlog

import (
	"os"
	"syscall"
)

// lockFile holds an exclusive advisory lock on f (flock(2)) until unlock:
// writers sharing the file, in this process or others, append one at a
// time. flock locks belong to an open file, so two Opens of one path in one
// process exclude each other as two processes do.
func lockFile(f *os.File) (unlock func() error, err error) {
	fd := int(f.Fd())
	for {
		err = syscall.Flock(fd, syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return func() error { return syscall.Flock(fd, syscall.LOCK_UN) }, nil
}
