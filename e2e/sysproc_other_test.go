//go:build !linux

package e2e

import "syscall"

// sysProcAttr: the servers are killed by the tests' cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }
