package backfill_test

import (
	"errors"
	"math"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/memstore"
)

// TestOptionsOutOfBounds: a library caller gets the protection the CLI's
// usage errors give: options past their documented bounds (or not numbers
// at all) are refused with ErrInvalidArgument before anything is read, not
// run until memory or the scheduler gives out. The values here are just
// past each bound, so that a run that accepted them would finish quickly.
func TestOptionsOutOfBounds(t *testing.T) {
	src, dst := seed(t, 1, 3), memstore.New()
	for _, tc := range []struct {
		reason string
		opts   backfill.Options
	}{
		{"a batch larger than MaxBatchSize", backfill.Options{BatchSize: backfill.MaxBatchSize + 1}},
		{"more workers than MaxWorkers", backfill.Options{Workers: backfill.MaxWorkers + 1}},
		{"a rate that is not a number", backfill.Options{Rate: math.NaN()}},
		{"an infinite rate", backfill.Options{Rate: math.Inf(1)}},
		{"a negative infinite rate", backfill.Options{Rate: math.Inf(-1)}},
		{"a rate above MaxRate", backfill.Options{Rate: backfill.MaxRate * 2}},
		{"a negative rate", backfill.Options{Rate: -1}},
		{"more segments than MaxSegments", backfill.Options{Segment: 0, Segments: backfill.MaxSegments + 1}},
		{"more retries than MaxRetriesLimit", backfill.Options{MaxRetries: backfill.MaxRetriesLimit + 1}},
	} {
		st, err := backfill.Run(t.Context(), src, dst, tc.opts)
		if !errors.Is(err, flagmigrate.ErrInvalidArgument) || st.Scanned != 0 {
			t.Errorf("%s: Run = %+v, %v; want ErrInvalidArgument and nothing scanned", tc.reason, st, err)
		}
	}
	for _, tc := range []struct {
		reason string
		opts   backfill.VerifyOptions
	}{
		{"a verify batch larger than MaxBatchSize", backfill.VerifyOptions{BatchSize: backfill.MaxBatchSize + 1}},
		{"a verify rate that is not a number", backfill.VerifyOptions{Rate: math.NaN()}},
		{"an infinite verify rate", backfill.VerifyOptions{Rate: math.Inf(1)}},
		{"a verify rate above MaxRate", backfill.VerifyOptions{Rate: backfill.MaxRate + 1}},
		{"a report larger than MaxReportedLimit", backfill.VerifyOptions{MaxReported: backfill.MaxReportedLimit + 1}},
	} {
		r, err := backfill.Verify(t.Context(), src, dst, tc.opts)
		if !errors.Is(err, flagmigrate.ErrInvalidArgument) || r.SourceEvents != 0 {
			t.Errorf("%s: Verify = %s, %v; want ErrInvalidArgument and nothing read", tc.reason, r, err)
		}
	}
	// The bounds themselves are accepted.
	if _, err := backfill.Run(t.Context(), src, dst, backfill.Options{BatchSize: backfill.MaxBatchSize, Workers: backfill.MaxWorkers, Rate: backfill.MaxRate}); err != nil {
		t.Errorf("Run at the bounds: %v", err)
	}
	if _, err := backfill.Verify(t.Context(), src, dst, backfill.VerifyOptions{BatchSize: backfill.MaxBatchSize, Rate: backfill.MaxRate, MaxReported: backfill.MaxReportedLimit}); err != nil {
		t.Errorf("Verify at the bounds: %v", err)
	}
}
