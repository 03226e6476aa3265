package vuln

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"quaykeeper/internal/quay"
)

// Scan statuses. The first five are Quay's; the last three record a fault that kept
// quaykeeper from reading a report. Stored as is.
const (
	StatusScanned       = "scanned"
	StatusQueued        = "queued"
	StatusFailed        = "failed"
	StatusUnsupported   = "unsupported"
	StatusLayerTooLarge = "manifest_layer_too_large"
	// StatusUnavailable: Quay or its scanner did not answer (520, 5xx, 429, timeouts) after
	// the client's retries.
	StatusUnavailable = "unavailable"
	// StatusNotFound: Quay has no such manifest (deleted since the crawl) or no scanner.
	StatusNotFound = "not_found"
	// StatusBadResponse: the answer could not be used (malformed JSON, an unknown status).
	StatusBadResponse = "bad_response"
)

// StatusCounts counts scans by status.
type StatusCounts struct {
	Scanned       int `json:"scanned"`
	Queued        int `json:"queued"`
	Failed        int `json:"failed"`
	Unsupported   int `json:"unsupported"`
	LayerTooLarge int `json:"manifest_layer_too_large"`
	Unavailable   int `json:"unavailable"`
	NotFound      int `json:"not_found"`
	BadResponse   int `json:"bad_response"`
}

// Add counts n scans of the status; an unknown status counts as bad_response.
func (c *StatusCounts) Add(status string, n int) {
	switch status {
	case StatusScanned:
		c.Scanned += n
	case StatusQueued:
		c.Queued += n
	case StatusFailed:
		c.Failed += n
	case StatusUnsupported:
		c.Unsupported += n
	case StatusLayerTooLarge:
		c.LayerTooLarge += n
	case StatusUnavailable:
		c.Unavailable += n
	case StatusNotFound:
		c.NotFound += n
	default:
		c.BadResponse += n
	}
}

// Total is the number of scans counted.
func (c StatusCounts) Total() int {
	return c.Scanned + c.Queued + c.Failed + c.Unsupported + c.LayerTooLarge + c.Unavailable +
		c.NotFound + c.BadResponse
}

// Transient reports whether a status may change by itself: the next run asks again, and a
// report read earlier stays in force meanwhile.
func Transient(status string) bool {
	return status == StatusQueued || status == StatusUnavailable || status == StatusBadResponse
}

// Finding is one vulnerability of one package of one scanned manifest.
type Finding struct {
	// Vulnerability is Clair's name, not always a CVE id (e.g. "pyup.io-38765 (CVE-...)").
	Vulnerability string
	Severity      Severity
	// RawSeverity is what Quay sent when it is not the name of Severity, e.g. "Unknown" for
	// a finding whose severity comes from its CVSS band; "" otherwise.
	RawSeverity string
	Package     string
	Version     string
	// AddedBy is the digest of the layer that introduced the package.
	AddedBy string
	// FixedBy is the fixing version, "" when there is no fix.
	FixedBy string
	// Link may hold several space-separated URLs.
	Link string
	// CVSS is the CVSS v3 base score, nil when Quay has none.
	CVSS       *float64
	CVSSVector string
	// Updater is the Clair updater that reported it.
	Updater     string
	Description string
}

// Fixable reports whether Quay names a version that fixes the finding.
func (f Finding) Fixable() bool { return f.FixedBy != "" }

// Package is one package Quay found in an image, vulnerable or not.
type Package struct {
	Name, Version, AddedBy string
}

// Scan is what quaykeeper records of one manifest's security report.
type Scan struct {
	Status string
	// Reason explains a status other than scanned, and notes what was repaired or skipped
	// in a scanned report; "" for a clean report.
	Reason   string
	Packages []Package
	Findings []Finding
}

var reasons = map[string]string{
	StatusQueued: "Quay has not scanned the manifest yet; the next run asks again",
	StatusFailed: "Quay's scanner could not index the manifest (failed, or its retries " +
		"are exhausted)",
	StatusUnsupported: "Quay's scanner does not support the manifest (an artifact, or a " +
		"manifest without container layers)",
	StatusLayerTooLarge: "a layer of the manifest is larger than Quay's scanner accepts",
}

// FromReport converts a security report. Bad entries never lose the rest: a vulnerability
// without a name takes the first CVE id of its link or is skipped, an unknown severity reads
// as Unknown (or the CVSS band) with the word kept, a CVSS score outside 0..10 is dropped,
// and repeats are merged; the Reason says what was done.
func FromReport(r quay.SecurityReport) Scan {
	if r.Status != StatusScanned {
		if reason, ok := reasons[r.Status]; ok {
			return Scan{Status: r.Status, Reason: reason}
		}
		return Scan{Status: StatusBadResponse, Reason: fmt.Sprintf(
			"Quay answered the scan status %q, which is none of scanned, queued, failed, "+
				"unsupported or manifest_layer_too_large", r.Status)}
	}
	s := Scan{Status: StatusScanned, Packages: make([]Package, 0, len(r.Features))}
	var n notes
	type key struct{ pkg, version, name string }
	seen := map[key]bool{}
	for _, feat := range r.Features {
		s.Packages = append(s.Packages, Package{Name: feat.Name, Version: feat.Version,
			AddedBy: feat.AddedBy})
		if feat.Name == "" {
			n.unnamedPackages++
		}
		for _, v := range feat.Vulnerabilities {
			f, ok := finding(feat, v, &n)
			if !ok {
				continue
			}
			k := key{f.Package, f.Version, f.Vulnerability}
			if seen[k] {
				n.repeats++
				continue
			}
			seen[k] = true
			s.Findings = append(s.Findings, f)
		}
	}
	s.Reason = n.String()
	return s
}

var cvePattern = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

// finding converts one vulnerability, counting what it repaired in n.
func finding(feat quay.Feature, v quay.Vulnerability, n *notes) (Finding, bool) {
	f := Finding{Vulnerability: v.Name, Package: feat.Name, Version: feat.Version,
		AddedBy: feat.AddedBy, FixedBy: v.FixedBy, Link: v.Link, CVSSVector: v.CVSSVector,
		Updater: v.NamespaceName, Description: v.Description}
	if f.Vulnerability == "" {
		f.Vulnerability = cvePattern.FindString(v.Link)
		if f.Vulnerability == "" {
			n.unnamed++
			return f, false
		}
		n.named++
	}
	if c := v.CVSSScore; c != nil && (*c < 0 || *c > 10) {
		n.badScores++
	} else if c != nil {
		score := *c
		f.CVSS = &score
	}
	sev, known := ParseSeverity(v.Severity)
	if !known {
		n.unknownWord(v.Severity)
		f.RawSeverity = v.Severity
	}
	if sev == Unknown && f.CVSS != nil {
		sev, f.RawSeverity = bandOf(*f.CVSS), v.Severity
	}
	f.Severity = sev
	return f, true
}

// notes counts what FromReport repaired or skipped in a scanned report.
type notes struct {
	unknown                    map[string]int
	unnamed, named, repeats    int
	badScores, unnamedPackages int
}

func (n *notes) unknownWord(word string) {
	if n.unknown == nil {
		n.unknown = map[string]int{}
	}
	n.unknown[word]++
}

// String describes the notes in one sentence per kind, "" when there are none.
func (n notes) String() string {
	var parts []string
	if len(n.unknown) > 0 {
		words := make([]string, 0, len(n.unknown))
		total := 0
		for w, c := range n.unknown {
			words = append(words, fmt.Sprintf("%q ×%d", w, c))
			total += c
		}
		sort.Strings(words)
		parts = append(parts, fmt.Sprintf("%s with a severity that is none of %s (%s) "+
			"read as Unknown, or as the CVSS band", plural(total, "vulnerability"),
			severityList(), strings.Join(words, ", ")))
	}
	add := func(count int, noun, format string) {
		if count > 0 {
			verb := "were"
			if count == 1 {
				verb = "was"
			}
			parts = append(parts, fmt.Sprintf(format, plural(count, noun), verb))
		}
	}
	add(n.named, "vulnerability", "%s without a name %s named after the CVE id in the link")
	add(n.unnamed, "vulnerability", "%s without a name or a CVE link %s skipped")
	add(n.repeats, "repeated vulnerability", "%s of the same package and version %s merged")
	add(n.badScores, "vulnerability", "%s with a CVSS score outside 0 to 10 %s kept "+
		"without the score")
	add(n.unnamedPackages, "package", "%s without a name %s kept")
	return strings.Join(parts, "; ")
}

// plural writes "1 vulnerability" or "3 vulnerabilities".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// FromError records a failed report request that is a fault of Quay for this manifest: the
// scanner down (520) or Quay unavailable after the client's retries, a manifest that is gone
// (404), a body that cannot be used. ok is false for every other error, a rejected token
// among them, which the caller must not record but fail on.
func FromError(err error) (s Scan, ok bool) {
	switch quay.KindOf(err) {
	case quay.KindUnavailable, quay.KindRateLimited:
		return Scan{Status: StatusUnavailable, Reason: err.Error()}, true
	case quay.KindNotFound:
		return Scan{Status: StatusNotFound, Reason: "Quay has no such manifest (deleted " +
			"since the crawl?) or no security scanner: " + err.Error()}, true
	case quay.KindMalformed, quay.KindBadRequest:
		return Scan{Status: StatusBadResponse, Reason: err.Error()}, true
	}
	return Scan{}, false
}
