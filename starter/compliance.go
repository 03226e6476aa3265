package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"quaykeeper/internal/report"
	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// orNone is an error message, or "no error recorded".
func orNone(msg string) string {
	if msg == "" {
		return "no error recorded"
	}
	return msg
}

// compliance prints a run's stored compliance evaluation, the latest by default, and fails
// when any image fails, so that a CI job can gate on it.
func (a *app) compliance(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("compliance", flag.ContinueOnError)
	orgName := fs.String("org", "", "organization")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	runID := fs.Int64("run", 0, "the run whose evaluation to print, default the latest")
	format := fs.String("format", "table", "table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := report.CheckFormat(*format); err != nil {
		return fmt.Errorf("compliance: %v: %w", err, errUsage)
	}
	org, err := a.findOrg(ctx, *orgName, *host)
	if err != nil {
		return err
	}
	id := *runID
	if id == 0 {
		id, err = a.store.LatestComplianceRun(ctx, org.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s has no compliance evaluation yet: run `starter sync "+
				"--org %s --wait`", org.Name, org.Name)
		}
		if err != nil {
			return err
		}
		if latest, err := a.store.LatestRun(ctx, org.ID, store.RunCompleted); err == nil &&
			latest.ID != id {
			fmt.Fprintf(os.Stderr, "starter: note: the latest completed run (%d) has no "+
				"compliance evaluation (%s); showing run %d's\n", latest.ID,
				orNone(latest.Error), id)
		}
	}
	rep, err := a.store.Compliance(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("run %d has no compliance evaluation; omit --run for the latest", id)
	}
	if err != nil {
		return err
	}
	if run, err := a.store.Run(ctx, id); err != nil {
		return err
	} else if run.OrganizationID != org.ID {
		return fmt.Errorf("run %d is not a run of %s; omit --run for its latest", id, org.Name)
	}
	rep.Organization = org.Name
	switch *format {
	case "json":
		err = writeJSON(a.out, rep)
	case "csv":
		err = writeComplianceCSV(a.out, rep)
	default:
		err = writeComplianceTable(a.out, rep)
	}
	if err != nil {
		return err
	}
	if rep.Summary.Failed > 0 {
		return errors.New(rep.Summary.Line())
	}
	return nil
}

// writeComplianceCSV writes one row per failure, and one with an empty rule per image that
// passes.
func writeComplianceCSV(w io.Writer, r vuln.ComplianceReport) error {
	cw := report.NewCSVWriter(w)
	cw.Write([]string{"repository", "manifest_digest", "tags", "latest", "pushed",
		"scan_status", "passed", "rule", "message"})
	for _, v := range r.Images {
		row := []string{v.Repository, v.Digest, strings.Join(v.Tags, ";"),
			strconv.FormatBool(v.Latest), v.Pushed.Format(time.RFC3339), v.ScanStatus,
			strconv.FormatBool(v.Passed)}
		if v.Passed {
			cw.Write(append(row, "", ""))
		}
		for _, f := range v.Failures {
			cw.Write(append(row, string(f.Rule), f.Message))
		}
	}
	return cw.Flush()
}

func writeComplianceTable(w io.Writer, r vuln.ComplianceReport) error {
	fmt.Fprintf(w, "Organization %s, run %d, evaluated at %s\n", r.Organization, r.RunID,
		r.EvaluatedAt)
	fmt.Fprintf(w, "Policies: %s\n", policiesLine(r.Settings))
	fmt.Fprintf(w, "Result: %s\n\n", r.Summary.Line())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAGS\tDIGEST\tSCAN\tRESULT\tRULE\tWHY")
	for _, v := range r.Images {
		prefix := fmt.Sprintf("%s\t%s\t%s\t%s\t", cell(v.Repository),
			cell(strings.Join(v.Tags, ",")), shortDigest(v.Digest), v.ScanStatus)
		if v.Passed {
			fmt.Fprintln(tw, prefix+"pass\t-\t-")
		}
		for _, f := range v.Failures {
			fmt.Fprintf(tw, "%sFAIL\t%s\t%s\n", prefix, f.Rule, cell(f.Message))
		}
	}
	return tw.Flush()
}

func policiesLine(s vuln.ComplianceSettings) string {
	var parts []string
	if s.FixableSeverityThreshold == "" {
		parts = append(parts, "fixable findings allowed")
	} else {
		parts = append(parts, "no fixable finding at or above "+s.FixableSeverityThreshold)
	}
	if s.MaxImageAgeDays == 0 {
		parts = append(parts, "no image age limit")
	} else {
		parts = append(parts, fmt.Sprintf("images at most %d days old", s.MaxImageAgeDays))
	}
	if s.RequireLatestScanned {
		parts = append(parts, "every latest image scanned")
	} else {
		parts = append(parts, "latest images may be unscanned")
	}
	return strings.Join(parts, "; ")
}

// shortDigest abbreviates "sha256:<64 hex>" to its first 12 hex digits, as registries do.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}
