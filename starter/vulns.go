package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"quaykeeper/internal/report"
	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// vulns lists the findings of the organization's inventory images, most urgent first.
func (a *app) vulns(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("vulns", flag.ContinueOnError)
	orgName := fs.String("org", "", "organization")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	repo := fs.String("repo", "", "only this repository")
	minSeverity := fs.String("min-severity", "Unknown",
		"only findings at or above this severity: Unknown, Negligible, Low, Medium, High, "+
			"Critical")
	fixable := fs.Bool("fixable", false, "only findings that have a fix")
	format := fs.String("format", "table", "table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := report.CheckFormat(*format); err != nil {
		return fmt.Errorf("vulns: %v: %w", err, errUsage)
	}
	sev, ok := vuln.ParseSeverity(*minSeverity)
	if !ok {
		return fmt.Errorf("vulns: --min-severity %q is not a severity; use one of Unknown, "+
			"Negligible, Low, Medium, High, Critical: %w", *minSeverity, errUsage)
	}
	org, err := a.findOrg(ctx, *orgName, *host)
	if err != nil {
		return err
	}
	run, err := a.store.LatestRun(ctx, org.ID, store.RunCompleted)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s has no completed run yet: run `starter sync --org %s --wait`",
			org.Name, org.Name)
	}
	if err != nil {
		return err
	}
	filter := vuln.Filter{Repository: *repo, MinSeverity: sev, Fixable: *fixable}
	occ, err := a.store.Occurrences(ctx, org.ID, filter)
	if err != nil {
		return err
	}
	scans, err := a.store.ScanCounts(ctx, org.ID)
	if err != nil {
		return err
	}
	l := vuln.NewListing(org.Name, run.EvaluatedAt, filter, scans, occ)
	switch *format {
	case "json":
		return writeJSON(a.out, l)
	case "csv":
		return writeFindingsCSV(a.out, l)
	}
	return writeFindingsTable(a.out, l)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeFindingsCSV writes one row per finding and image.
func writeFindingsCSV(w io.Writer, l vuln.Listing) error {
	cw := report.NewCSVWriter(w)
	cw.Write([]string{"rank", "score", "vulnerability", "severity", "raw_severity", "cvss",
		"package", "version", "fixed_by", "exposure_days", "repository", "tags", "digest",
		"manifest", "platform", "link"})
	for _, r := range l.Findings {
		for _, img := range r.Images {
			cw.Write([]string{strconv.Itoa(r.Rank), formatScore(r.Score), r.Vulnerability,
				r.Severity.String(), r.RawSeverity, formatCVSS(r.CVSS), r.Package, r.Version,
				r.FixedBy, strconv.Itoa(r.ExposureDays), img.Repository,
				strings.Join(img.Tags, ";"), img.Digest, img.Manifest, img.Platform, r.Link})
		}
	}
	return cw.Flush()
}

func writeFindingsTable(w io.Writer, l vuln.Listing) error {
	s := l.Summary
	fmt.Fprintf(w, "Organization %s, exposure measured at %s\n", l.Organization, l.EvaluatedAt)
	fmt.Fprintf(w, "Scans: %s\n", statusLine(l.Scans))
	if l.Scans.Total() == 0 {
		fmt.Fprintln(w, "No security report was ingested yet: a sync ingests them after it "+
			"prunes.")
	}
	fmt.Fprintf(w, "Findings: %d in %d images, %d with a fix\n", s.Findings, s.Images,
		s.Fixable)
	fmt.Fprintf(w, "  by severity: %s\n", severityLine(s.BySeverity))
	fmt.Fprintf(w, "  with a fix:  %s\n", severityLine(s.FixableBySeverity))
	if len(s.TopPackages) > 0 {
		var top []string
		for _, p := range s.TopPackages {
			top = append(top, fmt.Sprintf("%s %d (%s)", cell(p.Package), p.Findings,
				p.MaxSeverity))
		}
		fmt.Fprintf(w, "Top packages: %s\n", strings.Join(top, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tSCORE\tSEVERITY\tCVSS\tVULNERABILITY\tPACKAGE\tVERSION\tFIXED IN\t"+
		"EXPOSED\tIMAGES")
	for _, r := range l.Findings {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%dd\t%s\n", r.Rank,
			formatScore(r.Score), r.Severity, formatCVSS(r.CVSS), cell(r.Vulnerability),
			cell(r.Package), cell(r.Version), orDash(cell(r.FixedBy)), r.ExposureDays,
			imagesCell(r.Images))
	}
	return tw.Flush()
}

func formatScore(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) }

func formatCVSS(c *float64) string {
	if c == nil {
		return ""
	}
	return strconv.FormatFloat(*c, 'f', 1, 64)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// imagesCell names the first image as repository:tag[,tag] and counts the others.
func imagesCell(images []vuln.Image) string {
	if len(images) == 0 {
		return ""
	}
	first := images[0]
	s := cell(first.Repository) + ":" + cell(strings.Join(first.Tags, ","))
	if first.Platform != "" {
		s += " [" + cell(first.Platform) + "]"
	}
	if len(images) > 1 {
		s += fmt.Sprintf(" (+%d)", len(images)-1)
	}
	return s
}

func statusLine(c vuln.StatusCounts) string {
	parts := []string{fmt.Sprintf("%d scanned", c.Scanned)}
	for _, s := range []struct {
		n    int
		name string
	}{{c.Queued, vuln.StatusQueued}, {c.Failed, vuln.StatusFailed},
		{c.Unsupported, vuln.StatusUnsupported}, {c.LayerTooLarge, vuln.StatusLayerTooLarge},
		{c.Unavailable, vuln.StatusUnavailable}, {c.NotFound, vuln.StatusNotFound},
		{c.BadResponse, vuln.StatusBadResponse}} {
		if s.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.n, s.name))
		}
	}
	return strings.Join(parts, ", ")
}

func severityLine(c vuln.SeverityCounts) string {
	return fmt.Sprintf("%d critical, %d high, %d medium, %d low, %d negligible, %d unknown",
		c.Critical, c.High, c.Medium, c.Low, c.Negligible, c.Unknown)
}

// cell quotes a registry- or scanner-supplied string that holds control characters or tabs,
// so a table never carries terminal escape sequences from Quay to a person's screen.
func cell(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strconv.Quote(s)
}
