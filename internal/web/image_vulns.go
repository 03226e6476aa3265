package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// topFindings bounds the findings an image page lists; `starter vulns` lists them all.
const topFindings = 20

// vulnSection is the vulnerability summary of an image page. Scans is empty when quaykeeper
// never read the image's security report.
type vulnSection struct {
	Scans    []scanRow
	Counts   []severityCount
	Findings int
	Fixable  int
	Top      []findingRow
	// Command lists every finding of the image's repository.
	Command string
	// Pending is set when the policy scans the image, so an image without scans has its
	// report read by the next sync.
	Pending bool
}

type scanRow struct {
	Platform   string
	Manifest   string
	Status     string
	Reason     string
	CheckError string
	CheckedAt  string
	Packages   int
	Findings   int
}

// severityCount is one severity's row of the counts table, worst first.
type severityCount struct {
	Severity string
	Findings int
	Fixable  int
}

type findingRow struct {
	Rank          int
	Score         string
	Vulnerability string
	Severity      string
	RawSeverity   string
	CVSS          string
	CVSSVector    string
	Package       string
	Version       string
	FixedBy       string
	Links         []findingLink
}

// findingLink is one word of a finding's link text; URL is set only for an http(s) URL, so
// a scanner cannot make the page link to javascript: or any other scheme.
type findingLink struct {
	URL  string
	Text string
}

// imageVulns reads the image's scans and findings and ranks them at the organization's latest
// completed run, as `starter vulns` does, or now when it has none.
func (s *server) imageVulns(ctx context.Context, org store.Organization, repo,
	digest string) (vulnSection, error) {
	v := vulnSection{Command: fmt.Sprintf("starter vulns --org %s --repo %s", org.Name, repo)}
	scans, err := s.store.ManifestScans(ctx, org.ID, repo, digest)
	if err != nil || len(scans) == 0 {
		return v, err
	}
	for _, sc := range scans {
		v.Scans = append(v.Scans, scanRow{Platform: sc.Platform, Manifest: sc.Manifest,
			Status: sc.Status, Reason: sc.Reason, CheckError: sc.CheckError,
			CheckedAt: formatTime(sc.CheckedAt), Packages: sc.Packages, Findings: sc.Findings})
	}
	occ, err := s.store.Occurrences(ctx, org.ID, vuln.Filter{Repository: repo, Digest: digest})
	if err != nil {
		return v, err
	}
	at := time.Now()
	run, err := s.store.LatestRun(ctx, org.ID, store.RunCompleted)
	switch {
	case err == nil:
		at = run.EvaluatedAt
	case !errors.Is(err, store.ErrNotFound):
		return v, err
	}
	ranked := vuln.Rank(occ, at)
	sum := vuln.Summarize(ranked)
	v.Findings, v.Fixable = sum.Findings, sum.Fixable
	all, fixable := sum.BySeverity, sum.FixableBySeverity
	v.Counts = []severityCount{
		{"Critical", all.Critical, fixable.Critical}, {"High", all.High, fixable.High},
		{"Medium", all.Medium, fixable.Medium}, {"Low", all.Low, fixable.Low},
		{"Negligible", all.Negligible, fixable.Negligible},
		{"Unknown", all.Unknown, fixable.Unknown},
	}
	for _, r := range ranked[:min(len(ranked), topFindings)] {
		v.Top = append(v.Top, newFindingRow(r))
	}
	return v, nil
}

func newFindingRow(r vuln.Ranked) findingRow {
	row := findingRow{Rank: r.Rank, Score: strconv.FormatFloat(r.Score, 'f', 2, 64),
		Vulnerability: r.Vulnerability, Severity: r.Severity.String(),
		RawSeverity: r.RawSeverity, CVSSVector: r.CVSSVector, Package: r.Package,
		Version: r.Version, FixedBy: r.FixedBy, Links: findingLinks(r.Link)}
	if r.CVSS != nil {
		row.CVSS = strconv.FormatFloat(*r.CVSS, 'f', 1, 64)
	}
	return row
}

// findingLinks splits a link field, which may hold several space-separated URLs.
func findingLinks(field string) []findingLink {
	var links []findingLink
	for _, word := range strings.Fields(field) {
		l := findingLink{Text: word}
		if u, err := url.Parse(word); err == nil && u.Host != "" &&
			(u.Scheme == "http" || u.Scheme == "https") {
			l.URL = word
		}
		links = append(links, l)
	}
	return links
}
