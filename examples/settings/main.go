// Command settings migrates a settings service's records, which its users
// update all the time, from one store to another behind a migration flag:
// workers update hot records concurrently (read-modify-write increments)
// and create and delete others while the flag walks the stages from off to
// rampdown, a backfill copies the history during dual writes, and a share
// of the secondary's writes fail. The repair log is replayed before
// authority moves to the new store. It ends with a verify and a count of
// lost updates, and exits 1 unless both are zero.
//
//	go run ./examples/settings [-workers 8] [-ops 200] [-fail 0.05]
//
// It runs in memory (memstore's record stores): no server needed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.workers, "workers", 8, "concurrent workers")
	flag.IntVar(&cfg.ops, "ops", 200, "operations per worker and stage")
	flag.Float64Var(&cfg.fail, "fail", 0.05, "share of the secondary's writes that fail")
	flag.Parse()
	res, err := run(context.Background(), os.Stdout, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "settings:", err)
		os.Exit(1)
	}
	if !res.ok() {
		os.Exit(1)
	}
}

// printf writes a line of the run's story.
func printf(w io.Writer, format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
