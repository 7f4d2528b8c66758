package backfill

import (
	"fmt"
	"math"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// Bounds of [Options] and [VerifyOptions]. [Run] and [Verify] refuse a
// value past its bound with an error matching
// [eventstore.ErrInvalidArgument] before they read
// anything, as the flagmigrate command refuses its flags with a usage
// error: a batch of a billion events or a hundred million workers would
// only run the process out of memory.
const (
	// MaxBatchSize bounds Options.BatchSize and VerifyOptions.BatchSize:
	// events one worker holds, looks up and writes at once.
	MaxBatchSize = 10_000
	// MaxWorkers bounds Options.Workers: batches in flight at once. A run
	// holds up to about 2 × Workers × BatchSize events in memory.
	MaxWorkers = 256
	// MaxRate bounds Options.Rate and VerifyOptions.Rate, in events per
	// second; 0 is unlimited, and a rate must be a finite number.
	MaxRate = 1_000_000
	// MaxSegments bounds Options.Segments (DynamoDB's TotalSegments allows
	// no more).
	MaxSegments = 1_000_000
	// MaxRetriesLimit bounds Options.MaxRetries.
	MaxRetriesLimit = 100
	// MaxReportedLimit bounds VerifyOptions.MaxReported: the differences a
	// report lists (its counts stay exact).
	MaxReportedLimit = 1_000_000
)

// checkCount refuses an option v outside 0..hi (0 takes the default).
func checkCount(name string, v, hi int, bound string) error {
	if v < 0 || v > hi {
		return fmt.Errorf("backfill: %w: %s %d: want 0 (the default) to %d (%s)", eventstore.ErrInvalidArgument, name, v, hi, bound)
	}
	return nil
}

// checkRate refuses a rate that is not a finite number from 0 to MaxRate.
func checkRate(name string, r float64) error {
	if math.IsNaN(r) || r < 0 || r > MaxRate {
		return fmt.Errorf("backfill: %w: %s %v: want a number from 0 (unlimited) to %d (MaxRate)", eventstore.ErrInvalidArgument, name, r, MaxRate)
	}
	return nil
}

// validate checks the options' bounds (see MaxBatchSize and the others).
func (o Options) validate() error {
	for _, err := range []error{
		checkCount("BatchSize", o.BatchSize, MaxBatchSize, "MaxBatchSize"),
		checkCount("Workers", o.Workers, MaxWorkers, "MaxWorkers"),
		checkCount("MaxRetries", o.MaxRetries, MaxRetriesLimit, "MaxRetriesLimit"),
		checkCount("Segments", o.Segments, MaxSegments, "MaxSegments"),
		checkRate("Rate", o.Rate),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// validate checks the options' bounds; a negative BatchSize or
// MaxReported takes the default, as it always did.
func (o VerifyOptions) validate() error {
	for _, err := range []error{
		checkCount("BatchSize", max(o.BatchSize, 0), MaxBatchSize, "MaxBatchSize"),
		checkCount("MaxReported", max(o.MaxReported, 0), MaxReportedLimit, "MaxReportedLimit"),
		checkRate("Rate", o.Rate),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
