package vuln

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Image is an image that carries a finding: a manifest digest within a repository, with the
// inventory tags that point at it.
type Image struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
	// Digest is what the tags point at. Manifest is the manifest that was scanned: Digest
	// itself, or for a manifest list the platform manifest named by Platform.
	Digest   string `json:"digest"`
	Manifest string `json:"manifest"`
	Platform string `json:"platform"`
	// Pushed is the earliest start time of the tags that carry the image.
	Pushed time.Time `json:"pushed"`
}

// Occurrence is a finding in one scanned manifest of one image.
type Occurrence struct {
	Image   Image
	Finding Finding
}

// Filter selects the findings a listing shows.
type Filter struct {
	// Repository is "" for every repository.
	Repository  string   `json:"repository"`
	MinSeverity Severity `json:"min_severity"`
	// Fixable keeps only findings with a fixed-in version.
	Fixable bool `json:"fixable"`
	// Digest is "" for every image, else the digest the image's tags point at (for a
	// manifest list, the list's digest).
	Digest string `json:"digest,omitempty"`
}

// Ranked is one finding, a vulnerability of a package version, across every image that
// carries it, with its score and rank (1 is the most urgent).
type Ranked struct {
	Rank          int      `json:"rank"`
	Score         float64  `json:"score"`
	Vulnerability string   `json:"vulnerability"`
	Severity      Severity `json:"severity"`
	RawSeverity   string   `json:"raw_severity"`
	CVSS          *float64 `json:"cvss"`
	CVSSVector    string   `json:"cvss_vector"`
	Package       string   `json:"package"`
	Version       string   `json:"version"`
	FixedBy       string   `json:"fixed_by"`
	Link          string   `json:"link"`
	Updater       string   `json:"updater"`
	Description   string   `json:"description"`
	// ExposureDays is the exposure of the earliest pushed image that carries the finding.
	ExposureDays int     `json:"exposure_days"`
	Images       []Image `json:"images"`
}

// Rank groups occurrences into findings (one per vulnerability, package and version), scores
// them at instant at and sorts them by rank. The input order does not matter.
func Rank(occurrences []Occurrence, at time.Time) []Ranked {
	occ := slices.Clone(occurrences)
	slices.SortFunc(occ, func(a, b Occurrence) int {
		return cmp.Or(compareFinding(a.Finding, b.Finding), compareImage(a.Image, b.Image))
	})
	var out []Ranked
	for i, o := range occ {
		f := o.Finding
		if i == 0 || compareFinding(occ[i-1].Finding, f) != 0 {
			out = append(out, Ranked{Vulnerability: f.Vulnerability, Severity: f.Severity,
				RawSeverity: f.RawSeverity, CVSS: f.CVSS, CVSSVector: f.CVSSVector,
				Package: f.Package, Version: f.Version, FixedBy: f.FixedBy, Link: f.Link,
				Updater: f.Updater, Description: f.Description})
		}
		r := &out[len(out)-1]
		r.Severity = max(r.Severity, f.Severity)
		if f.CVSS != nil && (r.CVSS == nil || *f.CVSS > *r.CVSS) {
			r.CVSS, r.CVSSVector = f.CVSS, f.CVSSVector
		}
		if r.FixedBy == "" {
			r.FixedBy = f.FixedBy
		}
		r.ExposureDays = max(r.ExposureDays, ExposureDays(o.Image.Pushed, at))
		if n := len(r.Images); n == 0 || compareImage(r.Images[n-1], o.Image) != 0 {
			r.Images = append(r.Images, o.Image)
		}
	}
	for i := range out {
		r := &out[i]
		r.Score = Score(Finding{Severity: r.Severity, CVSS: r.CVSS, FixedBy: r.FixedBy},
			r.ExposureDays)
	}
	slices.SortFunc(out, compareRanked)
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

func compareFinding(a, b Finding) int {
	return cmp.Or(strings.Compare(a.Vulnerability, b.Vulnerability),
		strings.Compare(a.Package, b.Package), strings.Compare(a.Version, b.Version))
}

func compareImage(a, b Image) int {
	return cmp.Or(strings.Compare(a.Repository, b.Repository),
		strings.Compare(a.Digest, b.Digest), strings.Compare(a.Manifest, b.Manifest))
}

// compareRanked orders by score, severity, CVSS and exposure, each descending, then by name.
func compareRanked(a, b Ranked) int {
	cvss := func(r Ranked) float64 {
		if r.CVSS == nil {
			return -1
		}
		return *r.CVSS
	}
	return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Severity, a.Severity),
		cmp.Compare(cvss(b), cvss(a)), cmp.Compare(b.ExposureDays, a.ExposureDays),
		strings.Compare(a.Vulnerability, b.Vulnerability),
		strings.Compare(a.Package, b.Package), strings.Compare(a.Version, b.Version))
}

// SeverityCounts counts findings by severity.
type SeverityCounts struct {
	Critical   int `json:"critical"`
	High       int `json:"high"`
	Medium     int `json:"medium"`
	Low        int `json:"low"`
	Negligible int `json:"negligible"`
	Unknown    int `json:"unknown"`
}

func (c *SeverityCounts) add(s Severity) {
	counts := [...]*int{&c.Unknown, &c.Negligible, &c.Low, &c.Medium, &c.High, &c.Critical}
	*counts[min(max(s, Unknown), Critical)]++
}

// PackageCount is a package (by name, over all versions) that carries findings.
type PackageCount struct {
	Package     string   `json:"package"`
	Findings    int      `json:"findings"`
	Fixable     int      `json:"fixable"`
	Images      int      `json:"images"`
	MaxSeverity Severity `json:"max_severity"`
}

// Summary counts the listed findings.
type Summary struct {
	Findings          int            `json:"findings"`
	Fixable           int            `json:"fixable"`
	Images            int            `json:"images"`
	BySeverity        SeverityCounts `json:"by_severity"`
	FixableBySeverity SeverityCounts `json:"fixable_by_severity"`
	// TopPackages are the TopPackageCount packages with the most findings.
	TopPackages []PackageCount `json:"top_packages"`
}

// TopPackageCount is how many packages a summary names.
const TopPackageCount = 10

// Summarize counts ranked findings by severity and fix, and names the packages with the most
// findings (ties: the worse severity, then the name).
func Summarize(ranked []Ranked) Summary {
	s := Summary{TopPackages: []PackageCount{}}
	images := map[[2]string]bool{}
	packages := map[string]*PackageCount{}
	pkgImages := map[string]map[[2]string]bool{}
	for _, r := range ranked {
		s.Findings++
		s.BySeverity.add(r.Severity)
		p := packages[r.Package]
		if p == nil {
			p = &PackageCount{Package: r.Package, MaxSeverity: r.Severity}
			packages[r.Package], pkgImages[r.Package] = p, map[[2]string]bool{}
		}
		p.Findings++
		p.MaxSeverity = max(p.MaxSeverity, r.Severity)
		if r.FixedBy != "" {
			s.Fixable++
			s.FixableBySeverity.add(r.Severity)
			p.Fixable++
		}
		for _, img := range r.Images {
			k := [2]string{img.Repository, img.Digest}
			images[k], pkgImages[r.Package][k] = true, true
		}
	}
	s.Images = len(images)
	for name, p := range packages {
		p.Images = len(pkgImages[name])
		s.TopPackages = append(s.TopPackages, *p)
	}
	slices.SortFunc(s.TopPackages, func(a, b PackageCount) int {
		return cmp.Or(cmp.Compare(b.Findings, a.Findings),
			cmp.Compare(b.MaxSeverity, a.MaxSeverity), strings.Compare(a.Package, b.Package))
	})
	s.TopPackages = s.TopPackages[:min(len(s.TopPackages), TopPackageCount)]
	return s
}

// Listing is the JSON shape of `starter vulns`: findings ranked most urgent first, with the
// images that carry each, and a summary of them.
type Listing struct {
	Organization string `json:"organization"`
	// EvaluatedAt is the instant exposure is measured at, RFC 3339 UTC.
	EvaluatedAt string `json:"evaluated_at"`
	Filter      Filter `json:"filter"`
	// Scans counts the organization's scans by status, whatever the filter.
	Scans    StatusCounts `json:"scans"`
	Summary  Summary      `json:"summary"`
	Findings []Ranked     `json:"findings"`
}

// NewListing ranks the occurrences the filter selected and summarizes them.
func NewListing(org string, at time.Time, f Filter, scans StatusCounts,
	occurrences []Occurrence) Listing {
	ranked := Rank(occurrences, at)
	if ranked == nil {
		ranked = []Ranked{}
	}
	return Listing{Organization: org, EvaluatedAt: at.UTC().Format(time.RFC3339), Filter: f,
		Scans: scans, Summary: Summarize(ranked), Findings: ranked}
}
