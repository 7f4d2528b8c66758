package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRun: the example's whole story ends with a clean verify, no lost
// update and no deleted record back, having had secondary failures to
// repair.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	res, err := run(t.Context(), &out, config{workers: 8, ops: 60, fail: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if !res.ok() || !strings.Contains(out.String(), "PASS:") {
		t.Errorf("the run did not pass:\n%s", out.String())
	}
	if strings.Contains(out.String(), "secondary failures   0, repair applied   0\n") {
		t.Errorf("no failure was injected:\n%s", out.String())
	}
	t.Log("\n" + out.String())
}
