package quality

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one check in one run: a row of ops.dq_results.
type Result struct {
	Check string `json:"check"`
	Table string `json:"table"`
	Kind  Kind   `json:"kind"`
	// Status is pass, fail or error.
	Status Status `json:"status"`
	// Observed is what was measured, for people: "3 of 12000 rows".
	Observed string `json:"observed"`
	// Expected is what passes: "0 rows".
	Expected string `json:"expected"`
	// Detail is the evidence: the snapshots read, samples of offending
	// rows, the query's error. Stored as JSON.
	Detail      map[string]any `json:"detail,omitempty"`
	EvaluatedAt time.Time      `json:"evaluated_at"`
}

// Report is what one run found.
type Report struct {
	RunID     string        `json:"run_id"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration_ns"`
	// Snapshots are the pinned snapshot ids, by table; tables without a
	// snapshot are absent.
	Snapshots map[string]int64 `json:"snapshots,omitempty"`
	// Since is the first date the row-level checks covered ("" for all).
	Since   string   `json:"since,omitempty"`
	Results []Result `json:"results"`
	// Error is set when the run itself failed (the tables could not be
	// read, or the results not recorded).
	Error string `json:"error,omitempty"`
}

// Failures are the results that failed or could not be evaluated.
func (r Report) Failures() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status != StatusPass {
			out = append(out, res)
		}
	}
	return out
}

// Count returns how many results have the status.
func (r Report) Count(st Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == st {
			n++
		}
	}
	return n
}

// Result returns the result of the named check.
func (r Report) Result(check string) (Result, bool) {
	for _, res := range r.Results {
		if res.Check == check {
			return res, true
		}
	}
	return Result{}, false
}

// WriteTable writes the results as aligned columns, then the evidence of
// each failed check and a summary line.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tTABLE\tCHECK\tKIND\tOBSERVED\tEXPECTED")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(res.Status)), res.Table, res.Check, res.Kind,
			cut(res.Observed, 70), cut(res.Expected, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Failures() {
		detail, err := json.Marshal(res.Detail)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s %s: %s\n  expected: %s\n  evidence: %s\n", strings.ToUpper(string(res.Status)), res.Check,
			res.Observed, res.Expected, detail)
	}
	fmt.Fprintf(w, "\ndq run %s: %d checks, %d passed, %d failed, %d errors (%s)\n", r.RunID, len(r.Results),
		r.Count(StatusPass), r.Count(StatusFail), r.Count(StatusError), r.Duration)
	if r.Error != "" {
		fmt.Fprintf(w, "run error: %s\n", r.Error)
	}
	return nil
}

// cut shortens s to n characters and puts it on one line.
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
