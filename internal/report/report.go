// Package report renders a run's or a preview's decisions for people (a table) and for
// programs (JSON and CSV, whose shapes are stable and documented in the README).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
)

// Formats are the output formats Write accepts.
var Formats = []string{"table", "json", "csv"}

// CheckFormat returns an error naming the accepted formats when f is not one of them.
func CheckFormat(f string) error {
	if slices.Contains(Formats, f) {
		return nil
	}
	return fmt.Errorf("unknown format %q: use one of %s", f, strings.Join(Formats, ", "))
}

// Report is the JSON shape of `starter report` and `starter preview`.
type Report struct {
	Organization string          `json:"organization"`
	EvaluatedAt  string          `json:"evaluated_at"`
	Settings     policy.Settings `json:"settings"`
	Summary      store.Summary   `json:"summary"`
	Decisions    []Row           `json:"decisions"`
}

// Row is one tag's decision.
type Row struct {
	Repository     string   `json:"repository"`
	Tag            string   `json:"tag"`
	ManifestDigest string   `json:"manifest_digest"`
	Created        string   `json:"created"`
	Decision       string   `json:"decision"`
	Reasons        []string `json:"reasons"`
}

// New builds a report: rows sorted by repository then tag, reasons sorted, times in RFC 3339
// UTC, and the summary counted from the rows.
func New(org string, at time.Time, s policy.Settings, decisions []store.Decision) Report {
	r := Report{Organization: org, EvaluatedAt: formatTime(at), Settings: s,
		Decisions: make([]Row, 0, len(decisions))}
	for _, d := range decisions {
		reasons := make([]string, len(d.Reasons))
		for i, reason := range d.Reasons {
			reasons[i] = string(reason)
		}
		slices.Sort(reasons)
		r.Decisions = append(r.Decisions, Row{Repository: d.Repository, Tag: d.Tag,
			ManifestDigest: d.Digest, Created: formatTime(d.Created), Decision: string(d.Kind),
			Reasons: reasons})
		switch d.Kind {
		case policy.KindScan:
			r.Summary.Scan++
		case policy.KindRetain:
			r.Summary.Retain++
		case policy.KindPrune:
			r.Summary.Prune++
		}
	}
	slices.SortFunc(r.Decisions, func(a, b Row) int {
		if c := strings.Compare(a.Repository, b.Repository); c != 0 {
			return c
		}
		return strings.Compare(a.Tag, b.Tag)
	})
	return r
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Write renders the report in the given format.
func (r Report) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return r.writeCSV(w)
	case "table":
		return r.writeTable(w)
	}
	return CheckFormat(format)
}

func (r Report) writeCSV(w io.Writer) error {
	cw := NewCSVWriter(w)
	cw.Write([]string{"repository", "tag", "manifest_digest", "created", "decision", "reasons"})
	for _, row := range r.Decisions {
		cw.Write([]string{row.Repository, row.Tag, row.ManifestDigest, row.Created,
			row.Decision, strings.Join(row.Reasons, ";")})
	}
	return cw.Flush()
}

func (r Report) writeTable(w io.Writer) error {
	s := r.Settings
	regex := s.TagRegex
	if regex == "" {
		regex = "(none)"
	}
	fmt.Fprintf(w, "Organization %s, evaluated at %s\n", r.Organization, r.EvaluatedAt)
	fmt.Fprintf(w, "Settings: tag regex %s, age threshold %d months, keep latest %d\n",
		regex, s.AgeThresholdMonths, s.KeepLatest)
	fmt.Fprintf(w, "Decisions: %d scan, %d retain, %d prune\n\n", r.Summary.Scan,
		r.Summary.Retain, r.Summary.Prune)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tCREATED\tDECISION\tREASONS")
	for _, row := range r.Decisions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", printable(row.Repository),
			printable(row.Tag),
			shortDigest(row.ManifestDigest), row.Created, row.Decision,
			strings.Join(row.Reasons, ","))
	}
	return tw.Flush()
}

// printable quotes a registry-supplied name that holds control characters, so a table never
// carries terminal escape sequences from Quay to a person's screen.
func printable(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// shortDigest abbreviates "sha256:<64 hex>" to its first 12 hex digits, as registries do.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}
