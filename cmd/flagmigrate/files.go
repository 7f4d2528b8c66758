package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flagmigrate/flagmigrate/backfill"
	"github.com/flagmigrate/flagmigrate/eventstore"
)

// The files a command writes (a checkpoint, a repair log, a report) are
// checked before any store is opened: a mistyped path is a usage error,
// found before a copy runs for nothing or an erasure leaves a file behind.

// fileProblem says why path cannot be written as the file a flag names, or
// "". A file that must exist is a regular file; one that need not exist
// yet is in a directory that does. Either way its directory must take a
// new file: the library replaces files atomically beside them.
func fileProblem(path string, mustExist bool) string {
	dir := filepath.Dir(path)
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return "is a directory"
	case err == nil && !st.Mode().IsRegular():
		return "is not a regular file"
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return message(err)
	case err != nil:
		d, derr := os.Stat(dir)
		switch {
		case errors.Is(derr, fs.ErrNotExist):
			return fmt.Sprintf("directory %s does not exist", dir)
		case derr != nil:
			return message(derr)
		case !d.IsDir():
			return fmt.Sprintf("%s is not a directory", dir)
		case mustExist:
			return "no such file"
		}
	}
	tmp, err := os.CreateTemp(dir, ".flagmigrate-check-*")
	if err != nil {
		return fmt.Sprintf("cannot write in directory %s: %v", dir, errors.Unwrap(err))
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return ""
}

// checkpointProblem says why path is no checkpoint file a run can use, or
// "": a missing file is a new checkpoint.
func checkpointProblem(ctx context.Context, path string, mustExist bool, opts *backfill.Options) string {
	if p := fileProblem(path, mustExist); p != "" {
		return p
	}
	fc := backfill.NewFileCheckpoint(path)
	cp, ok, err := fc.Load(ctx)
	switch {
	case err != nil && isJSONError(err):
		return fmt.Sprintf("not a checkpoint file (%v)", errors.Unwrap(err))
	case err != nil:
		return message(err)
	case ok && cp.Job == "":
		return "not a checkpoint file (no job)"
	case opts == nil:
		return ""
	}
	o := *opts
	o.Checkpoint = fc
	var mismatch *backfill.JobMismatchError
	if err := backfill.CheckCheckpoint(ctx, o); errors.As(err, &mismatch) {
		return fmt.Sprintf("belongs to another job (saved by %q, this run is %q): give the command line that saved it, or another file", mismatch.Saved, mismatch.Run)
	} else if err != nil {
		return message(err)
	}
	return ""
}

// reportProblem says why path is no verify JSON report, or "".
func reportProblem(path string) string {
	if p := fileProblem(path, true); p != "" {
		return p
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return message(err)
	}
	var r backfill.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Sprintf("not a verify JSON report (%v)", err)
	}
	return ""
}

// repairLogProblem says why path is no repair log erase can rewrite, or "".
func repairLogProblem(path string) string {
	if p := fileProblem(path, true); p != "" {
		return p
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return message(err)
	}
	f.Close()
	return ""
}

func isJSONError(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ)
}

// accountsProblem says which account ID of a list no event can have
// (eventstore.ValidateAccountID), by its position, without quoting it (it
// may not be printable), or "".
func accountsProblem(ids []string) string {
	for i, id := range ids {
		if err := eventstore.ValidateAccountID(id); err != nil {
			var ve *eventstore.ValidationError
			if errors.As(err, &ve) {
				return fmt.Sprintf("account %d %s", i+1, ve.Reason)
			}
			return fmt.Sprintf("account %d: %s", i+1, message(err))
		}
	}
	return ""
}
