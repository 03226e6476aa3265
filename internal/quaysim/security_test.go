package quaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func security(t *testing.T, s http.Handler, repo, digest string) map[string]any {
	t.Helper()
	path := "/api/v1/repository/" + repo + "/manifest/" + digest + "/security?vulnerabilities=true"
	return call(s, path, tokFull).mustStatus(t, http.StatusOK).object(t)
}

func TestSecurityStatuses(t *testing.T) {
	s := newFixtureServer(t, Options{ScanRates: &ScanRates{}})
	tests := []struct{ name, repo, digest, status string }{
		{"image", "acme/api", dg("v130"), "scanned"},
		{"dead manifest (allow_dead)", "acme/api", dg("v129"), "scanned"},
		{"manifest list", "acme/api", dg("list"), "unsupported"},
		{"child of a list", "acme/api", childManifests(dg("list"))[0].digest, "scanned"},
		{"cosign signature", "acme/api", dg("sig"), "unsupported"},
		{"repository with only dead tags", "acme/gone", dg("gone"), "scanned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := security(t, s, tt.repo, tt.digest)
			if body["status"] != tt.status {
				t.Errorf("status = %v, want %s", body["status"], tt.status)
			}
			if data, has := body["data"]; !has || (tt.status != "scanned") != (data == nil) {
				t.Errorf("data = %v for status %s", data, tt.status)
			}
		})
	}
	checkAPIError(t, call(s, "/api/v1/repository/acme/api/manifest/"+dg("none")+"/security",
		tokFull), 404, "not_found", "Not Found")
}

func TestSecurityRates(t *testing.T) {
	for _, tt := range []struct {
		rates ScanRates
		want  string
	}{
		{ScanRates{Queued: 1}, "queued"},
		{ScanRates{Failed: 1}, "failed"},
		{ScanRates{LayerTooLarge: 1}, "manifest_layer_too_large"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			s := newFixtureServer(t, Options{ScanRates: &tt.rates})
			body := security(t, s, "acme/api", dg("v130"))
			if body["status"] != tt.want || body["data"] != nil {
				t.Errorf("body = %v, want status %s and null data", body, tt.want)
			}
		})
	}
	// The default rates leave most images scanned, and which ones is fixed by the digest.
	ds := manyRepos(1)
	repo := &ds.Organizations[0].Repositories[0]
	repo.Tags = nil
	for i := range 400 {
		repo.Tags = append(repo.Tags, Tag{Name: fmt.Sprintf("t%d", i), ManifestDigest: dg(
			fmt.Sprint(i)), StartTS: now0 - day, Size: 5e7})
	}
	s := New(ds, Options{Now: func() time.Time { return fixtureNow }})
	counts := map[string]int{}
	for i := range 400 {
		counts[security(t, s, "acme/r000", dg(fmt.Sprint(i)))["status"].(string)]++
	}
	if counts["scanned"] < 320 || counts["queued"] == 0 || counts["failed"] == 0 {
		t.Errorf("status counts = %v, want mostly scanned and some queued and failed", counts)
	}
}

var cveID = regexp.MustCompile(`CVE-\d{4}-\d{4,7}`)

// TestSecurityReport checks the scanned payload's types and the fields Quay recomputes,
// over enough digests to meet every base and severity.
func TestSecurityReport(t *testing.T) {
	ds := manyRepos(1)
	repo := &ds.Organizations[0].Repositories[0]
	repo.Tags = nil
	for i := range 40 {
		repo.Tags = append(repo.Tags, Tag{Name: fmt.Sprintf("t%d", i), ManifestDigest: dg(
			fmt.Sprint("img", i)), StartTS: now0 - day, Size: 2e8})
	}
	s := New(ds, Options{Now: func() time.Time { return fixtureNow }, ScanRates: &ScanRates{}})
	severities, updaters := map[string]int{}, map[string]bool{}
	emptyLinks, multiLinks, unfixed, noScore := 0, 0, 0, 0
	for i := range 40 {
		digest := dg(fmt.Sprint("img", i))
		r := call(s, "/api/v1/repository/acme/r000/manifest/"+digest+"/security", tokFull)
		var rep struct {
			Data struct {
				Layer struct {
					Name, ParentName, NamespaceName string
					IndexedByVersion                int
					Features                        []struct {
						Name, VersionFormat, NamespaceName, AddedBy, Version string
						BaseScores                                           []float64
						CVEIds                                               []string
						Vulnerabilities                                      []struct {
							Severity, NamespaceName, Link, FixedBy, Description, Name string
							Metadata                                                  struct {
								UpdatedBy string
								NVD       struct {
									CVSSv3 struct {
										Vectors string
										Score   json.RawMessage
									}
								}
							}
						}
					}
				}
			}
		}
		if err := json.Unmarshal(r.body, &rep); err != nil {
			t.Fatalf("decode report: %v", err)
		}
		for _, null := range []string{`"FixedBy":null`, `"Link":null`, `"BaseScores":null`,
			`"CVEIds":null`, `"Vulnerabilities":null`} {
			if bytes.Contains(r.body, []byte(null)) {
				t.Errorf("report has %s; Quay never sends null there", null)
			}
		}
		layer := rep.Data.Layer
		if layer.Name != digest || layer.ParentName != "" || layer.NamespaceName != "" ||
			layer.IndexedByVersion != 4 || len(layer.Features) == 0 {
			t.Fatalf("layer header = %+v", layer)
		}
		manifest := call(s, "/api/v1/repository/acme/r000/manifest/"+digest, tokFull)
		for _, f := range layer.Features {
			if f.VersionFormat != "" || f.NamespaceName != "" ||
				!strings.Contains(string(manifest.body), f.AddedBy) {
				t.Errorf("feature %s: format %q namespace %q added by %s (not a layer of "+
					"the manifest?)", f.Name, f.VersionFormat, f.NamespaceName, f.AddedBy)
			}
			var scores []float64
			cves := []string{}
			for _, v := range f.Vulnerabilities {
				severities[v.Severity]++
				updaters[v.NamespaceName] = true
				if v.NamespaceName != v.Metadata.UpdatedBy {
					t.Errorf("NamespaceName %q != UpdatedBy %q", v.NamespaceName,
						v.Metadata.UpdatedBy)
				}
				switch score := string(v.Metadata.NVD.CVSSv3.Score); {
				case score == `""`:
					noScore++
					if v.Metadata.NVD.CVSSv3.Vectors != "" {
						t.Errorf("%s has a vector but no score", v.Name)
					}
				default:
					var f float64
					if err := json.Unmarshal(v.Metadata.NVD.CVSSv3.Score, &f); err != nil {
						t.Errorf("%s Score = %s, want a number or \"\"", v.Name, score)
					}
					scores = append(scores, f)
				}
				for _, c := range cveID.FindAllString(v.Link, -1) {
					if !slices.Contains(cves, c) {
						cves = append(cves, c)
					}
				}
				switch {
				case v.Link == "":
					emptyLinks++
				case strings.Contains(v.Link, " "):
					multiLinks++
				}
				if v.FixedBy == "" {
					unfixed++
				}
			}
			slices.Sort(cves)
			if !slices.Equal(f.BaseScores, scores) {
				t.Errorf("%s BaseScores = %v, want %v", f.Name, f.BaseScores, scores)
			}
			if !slices.Equal(f.CVEIds, cves) {
				t.Errorf("%s CVEIds = %v, want %v (from Link only)", f.Name, f.CVEIds, cves)
			}
		}
	}
	for _, sev := range []string{"Unknown", "Negligible", "Low", "Medium", "High", "Critical"} {
		if severities[sev] == 0 {
			t.Errorf("no %s vulnerability in 40 images: %v", sev, severities)
		}
	}
	if len(updaters) < 5 || emptyLinks == 0 || multiLinks == 0 || unfixed == 0 || noScore == 0 {
		t.Errorf("updaters %d, empty links %d, multiple links %d, unfixed %d, unscored %d; "+
			"want a spread of each", len(updaters), emptyLinks, multiLinks, unfixed, noScore)
	}
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		v    vuln
		want string
	}{
		{vuln{severity: "High", score: "2.0"}, "High"},
		{vuln{severity: "Negligible", score: "9.8"}, "Negligible"},
		{vuln{severity: "Unknown", score: "3.9"}, "Low"},
		{vuln{severity: "", score: "4.0"}, "Medium"},
		{vuln{severity: "Unknown", score: "8.9"}, "High"},
		{vuln{severity: "Unknown", score: "9.0"}, "Critical"},
		{vuln{severity: "Unknown", score: "10.0"}, "Unknown"},
		{vuln{severity: "Unknown"}, "Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.v.severity+"/"+tt.v.score, func(t *testing.T) {
			if got := severity(tt.v); got != tt.want {
				t.Errorf("severity = %s, want %s", got, tt.want)
			}
		})
	}
}
