package e2e

import "syscall"

// sysProcAttr makes a server die with the test binary (for example when
// go test's timeout panics it), so that no server outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
