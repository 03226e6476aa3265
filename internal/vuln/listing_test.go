package vuln_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"quaykeeper/internal/vuln"
)

var at = time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)

func image(repo, digest, manifest string, ageDays int, tags ...string) vuln.Image {
	platform := ""
	if manifest != digest {
		platform = "linux/" + manifest
	}
	return vuln.Image{Repository: repo, Tags: tags, Digest: digest, Manifest: manifest,
		Platform: platform, Pushed: at.AddDate(0, 0, -ageDays)}
}

func occurrences() []vuln.Occurrence {
	api := image("api", "sha256:a1", "sha256:a1", 10, "latest", "v2")
	webAMD := image("web", "sha256:w1", "amd64", 400, "v1")
	webARM := image("web", "sha256:w1", "arm64", 400, "v1")
	glibc := vuln.Finding{Vulnerability: "CVE-2023-4911", Severity: vuln.High,
		CVSS: cvss(7.8), Package: "glibc", Version: "2.34-60.el9", FixedBy: "2.34-83.el9.7"}
	zlib := vuln.Finding{Vulnerability: "CVE-2023-45853", Severity: vuln.Critical,
		RawSeverity: "Unknown", CVSS: cvss(9.8), Package: "zlib", Version: "1.3-r2"}
	ssl := vuln.Finding{Vulnerability: "CVE-2023-5678", Severity: vuln.Low, CVSS: cvss(5.3),
		Package: "openssl-libs", Version: "1:3.0.7-24.el9", FixedBy: "1:3.0.7-27.el9"}
	ssl2 := ssl
	ssl2.Vulnerability = "CVE-2024-0727"
	return []vuln.Occurrence{
		{api, glibc}, {webAMD, glibc}, {webARM, glibc}, {webARM, glibc},
		{api, zlib}, {webAMD, ssl}, {api, ssl}, {api, ssl2},
	}
}

func TestRank(t *testing.T) {
	ranked := vuln.Rank(occurrences(), at)
	var got []string
	for _, r := range ranked {
		imgs := ""
		for _, img := range r.Images {
			imgs += " " + img.Repository + "@" + img.Manifest
		}
		got = append(got, fmt.Sprintf("%d %.2f %s %s %dd%s", r.Rank, r.Score, r.Vulnerability,
			r.Severity, r.ExposureDays, imgs))
	}
	// A critical without a fix (75 + 9.8 + 0.14) ranks above the old fixed high
	// (60 + 7.8 + 10 + 5).
	want := []string{
		"1 84.94 CVE-2023-45853 Critical 10d api@sha256:a1",
		"2 82.80 CVE-2023-4911 High 400d api@sha256:a1 web@amd64 web@arm64",
		"3 50.30 CVE-2023-5678 Low 400d api@sha256:a1 web@amd64",
		"4 45.44 CVE-2024-0727 Low 10d api@sha256:a1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranked\n%q\nwant\n%q", got, want)
	}
	if ranked[0].RawSeverity != "Unknown" || ranked[1].FixedBy != "2.34-83.el9.7" {
		t.Errorf("fields lost: %+v", ranked[:2])
	}
}

func TestRankIgnoresInputOrder(t *testing.T) {
	want := vuln.Rank(occurrences(), at)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		occ := occurrences()
		rng.Shuffle(len(occ), func(i, j int) { occ[i], occ[j] = occ[j], occ[i] })
		if got := vuln.Rank(occ, at); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d ranked differently:\n%+v\nwant\n%+v", i, got, want)
		}
	}
}

func TestRankTies(t *testing.T) {
	f := func(name, pkg string) vuln.Occurrence {
		return vuln.Occurrence{Image: image("api", "sha256:a1", "sha256:a1", 0),
			Finding: vuln.Finding{Vulnerability: name, Severity: vuln.Medium, Package: pkg}}
	}
	ranked := vuln.Rank([]vuln.Occurrence{f("CVE-2", "b"), f("CVE-1", "b"), f("CVE-1", "a")},
		at)
	var got []string
	for _, r := range ranked {
		got = append(got, r.Vulnerability+" "+r.Package)
	}
	if want := []string{"CVE-1 a", "CVE-1 b", "CVE-2 b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ties ordered %v, want %v", got, want)
	}
}

func TestSummarize(t *testing.T) {
	s := vuln.Summarize(vuln.Rank(occurrences(), at))
	want := vuln.Summary{Findings: 4, Fixable: 3, Images: 2,
		BySeverity:        vuln.SeverityCounts{Critical: 1, High: 1, Low: 2},
		FixableBySeverity: vuln.SeverityCounts{High: 1, Low: 2},
		TopPackages: []vuln.PackageCount{
			{Package: "openssl-libs", Findings: 2, Fixable: 2, Images: 2,
				MaxSeverity: vuln.Low},
			{Package: "zlib", Findings: 1, Images: 1, MaxSeverity: vuln.Critical},
			{Package: "glibc", Findings: 1, Fixable: 1, Images: 2, MaxSeverity: vuln.High},
		}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", s, want)
	}
}

func TestSummarizeNamesTenPackages(t *testing.T) {
	var occ []vuln.Occurrence
	for i := range 15 {
		for j := range i + 1 {
			occ = append(occ, vuln.Occurrence{Image: image("api", "sha256:a", "sha256:a", 0),
				Finding: vuln.Finding{Vulnerability: fmt.Sprintf("CVE-%d", j),
					Package: fmt.Sprintf("pkg-%02d", i)}})
		}
	}
	s := vuln.Summarize(vuln.Rank(occ, at))
	if len(s.TopPackages) != vuln.TopPackageCount || s.TopPackages[0].Package != "pkg-14" ||
		s.TopPackages[9].Package != "pkg-05" {
		t.Errorf("top packages %+v", s.TopPackages)
	}
}

func TestNewListingOfNothing(t *testing.T) {
	l := vuln.NewListing("acme", at, vuln.Filter{}, vuln.StatusCounts{Queued: 2}, nil)
	if l.Findings == nil || len(l.Findings) != 0 || l.Summary.TopPackages == nil ||
		l.EvaluatedAt != "2026-12-04T13:00:00Z" || l.Scans.Total() != 2 {
		t.Errorf("listing %+v", l)
	}
}
