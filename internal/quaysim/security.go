package quaysim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
)

// ScanRates are the fractions of image manifests whose security status is not "scanned".
// Which manifests they are follows from the digest, so a status never changes between calls.
type ScanRates struct {
	Queued        float64
	Failed        float64
	LayerTooLarge float64
}

// DefaultScanRates leave about nine in ten images scanned.
var DefaultScanRates = ScanRates{Queued: 0.05, Failed: 0.02, LayerTooLarge: 0.01}

type securityView struct {
	Status string        `json:"status"`
	Data   *securityData `json:"data"`
}

type securityData struct {
	Layer layerReport `json:"Layer"`
}

type layerReport struct {
	Name             string          `json:"Name"`
	ParentName       string          `json:"ParentName"`
	NamespaceName    string          `json:"NamespaceName"`
	IndexedByVersion int             `json:"IndexedByVersion"`
	Features         []featureReport `json:"Features"`
}

type featureReport struct {
	Name            string        `json:"Name"`
	VersionFormat   string        `json:"VersionFormat"`
	NamespaceName   string        `json:"NamespaceName"`
	AddedBy         string        `json:"AddedBy"`
	Version         string        `json:"Version"`
	BaseScores      []json.Number `json:"BaseScores"`
	CVEIds          []string      `json:"CVEIds"`
	Vulnerabilities []vulnReport  `json:"Vulnerabilities"`
}

type vulnReport struct {
	Severity      string     `json:"Severity"`
	NamespaceName string     `json:"NamespaceName"`
	Link          string     `json:"Link"`
	FixedBy       string     `json:"FixedBy"`
	Description   string     `json:"Description"`
	Name          string     `json:"Name"`
	Metadata      vulnSource `json:"Metadata"`
}

type vulnSource struct {
	UpdatedBy     string  `json:"UpdatedBy"`
	RepoName      *string `json:"RepoName"`
	RepoLink      *string `json:"RepoLink"`
	DistroName    *string `json:"DistroName"`
	DistroVersion *string `json:"DistroVersion"`
	NVD           struct {
		CVSSv3 struct {
			// Vectors and Score are "" without CVSS enrichment; Score is a number otherwise.
			Vectors string `json:"Vectors"`
			Score   any    `json:"Score"`
		} `json:"CVSSv3"`
	} `json:"NVD"`
}

// getSecurity is endpoints/api/secscan.py :: RepositoryManifestSecurity.get. The manifest
// lookup allows dead tags, and the vulnerabilities parameter is ignored, as in Quay's V4
// scanner model, which always returns the full report.
func (s *Server) getSecurity(r *http.Request, id identity, m routeMatch, now int64) response {
	repo := s.st.repo(m.ns, m.repo)
	if !id.canRead(repo) {
		return unauthorized(r, id)
	}
	ref, found := repo.lookupManifest(m.dgst, now, true)
	if !found {
		return notFound(r)
	}
	if ref.isList || ref.accessory != "" {
		return ok(securityView{Status: "unsupported"})
	}
	u := unit(ref.digest, "scan-status")
	switch rates := s.scan; {
	case u < rates.Queued:
		return ok(securityView{Status: "queued"})
	case u < rates.Queued+rates.Failed:
		return ok(securityView{Status: "failed"})
	case u < rates.Queued+rates.Failed+rates.LayerTooLarge:
		return ok(securityView{Status: "manifest_layer_too_large"})
	}
	img := buildImage(ref.digest, ref.size, ref.pushed)
	return ok(securityView{Status: "scanned", Data: &securityData{Layer: layerReport{
		Name: ref.digest, IndexedByVersion: 4, Features: features(ref.digest, img),
	}}})
}

// vulnShare is the chance that an image carries a given catalogue vulnerability of one of its
// packages.
const vulnShare = 0.7

// features lists every package of the image, vulnerable or not, like
// secscan_v4_model.py :: features_for.
func features(digest string, img image) []featureReport {
	b := img.base
	osSource := vulnSource{UpdatedBy: b.updater, RepoName: b.repoName, DistroName: b.distro,
		DistroVersion: b.version}
	var out []featureReport
	for _, p := range b.packages {
		out = append(out, feature(digest, p, baseLayerDigest(b), osSource))
	}
	if e := img.eco; e != nil {
		source := vulnSource{UpdatedBy: e.updater, RepoName: e.repoName, RepoLink: e.repoLink}
		for _, p := range e.packages {
			out = append(out, feature(digest, p, img.appLayer(), source))
		}
	}
	return out
}

var cvePattern = regexp.MustCompile(`CVE-\d{4}-\d{4,7}`)

// feature builds one package entry. BaseScores and CVEIds are recomputed the way
// SecurityInformation.to_dict does: truthy CVSS scores, and CVE ids found in Link only.
func feature(digest string, p pkg, addedBy string, source vulnSource) featureReport {
	f := featureReport{Name: p.name, AddedBy: addedBy, Version: p.version,
		BaseScores: []json.Number{}, CVEIds: []string{}, Vulnerabilities: []vulnReport{}}
	for _, v := range p.vulns {
		if unit(digest, p.name, v.name) >= vulnShare {
			continue
		}
		meta := source
		meta.NVD.CVSSv3.Vectors, meta.NVD.CVSSv3.Score = v.vector, ""
		if v.score != "" {
			meta.NVD.CVSSv3.Score = json.Number(v.score)
			f.BaseScores = append(f.BaseScores, json.Number(v.score))
		}
		for _, cve := range cvePattern.FindAllString(v.link, -1) {
			if !slices.Contains(f.CVEIds, cve) {
				f.CVEIds = append(f.CVEIds, cve)
			}
		}
		f.Vulnerabilities = append(f.Vulnerabilities, vulnReport{
			Severity: severity(v), NamespaceName: source.UpdatedBy, Link: v.link,
			FixedBy: v.fixedBy, Description: v.description, Name: v.name, Metadata: meta,
		})
	}
	slices.Sort(f.CVEIds)
	return f
}

// severity is util/secscan :: fetch_vuln_severity: the scanner's severity unless it is
// Unknown or empty, then the CVSS band of get_priority_from_cvssscore, whose Critical band
// stops below 10.0, so a perfect 10 maps to Unknown.
func severity(v vuln) string {
	if v.severity != "" && v.severity != "Unknown" {
		return v.severity
	}
	score, err := strconv.ParseFloat(v.score, 64)
	switch {
	case err != nil || score <= 0:
		return "Unknown"
	case score < 4:
		return "Low"
	case score < 7:
		return "Medium"
	case score < 9:
		return "High"
	case score < 10:
		return "Critical"
	}
	return "Unknown"
}
