package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFullJitter(t *testing.T) {
	for _, tc := range []struct {
		reason  string
		n       int
		ceiling time.Duration
	}{
		{"first retry: up to base", 0, 10 * time.Millisecond},
		{"doubles per retry", 3, 80 * time.Millisecond},
		{"capped at max", 10, time.Second},
		{"no overflow for large n", 200, time.Second},
	} {
		var largest time.Duration
		for range 2000 {
			d := FullJitter(tc.n, 10*time.Millisecond, time.Second)
			if d < 0 || d > tc.ceiling {
				t.Fatalf("%s: FullJitter(%d) = %v, outside [0, %v]", tc.reason, tc.n, d, tc.ceiling)
			}
			largest = max(largest, d)
		}
		if largest < tc.ceiling/2 {
			t.Errorf("%s: never above %v in 2000 draws: not the full [0, %v] range", tc.reason, largest, tc.ceiling)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v", err)
	}
}
