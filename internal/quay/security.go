package quay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// SecurityReport is a manifest's scan: Status is scanned, queued, failed, unsupported (manifest
// lists: scan each child) or manifest_layer_too_large. Features are set only when scanned.
type SecurityReport struct {
	Status   string
	Features []Feature
}

// Feature is one package found in the image, with or without vulnerabilities.
type Feature struct {
	Name, Version string
	// AddedBy is the digest of the layer that introduced the package.
	AddedBy         string
	Vulnerabilities []Vulnerability
}

// Vulnerability is one vulnerability of a feature.
type Vulnerability struct {
	// Name is Clair's name, not always a CVE id.
	Name string
	// Severity is Unknown, Negligible, Low, Medium, High or Critical.
	Severity string
	// Link may hold several space-separated URLs, or be "".
	Link string
	// FixedBy is the fixing version, "" when there is no fix.
	FixedBy     string
	Description string
	// NamespaceName is the Clair updater that reported it, not the OS.
	NamespaceName string
	// CVSSScore is the NVD CVSSv3 score, nil when Quay has none (it then sends "").
	CVSSScore  *float64
	CVSSVector string
}

// Security fetches a manifest's security report:
// GET .../manifest/{digest}/security?vulnerabilities=true. It also works for manifests of
// deleted tags. A 520 (scanner down) is KindUnavailable; a 404 may mean the registry has no
// security scanner at all.
func (c *Client) Security(
	ctx context.Context, namespace, repo, digest string,
) (SecurityReport, error) {
	p, perr := manifestPath(namespace, repo, digest)
	if perr != nil {
		return SecurityReport{}, perr
	}
	var body struct {
		Status *string `json:"status"`
		Data   *struct {
			Layer *struct {
				Features []featureJSON
			}
		} `json:"data"`
	}
	cl := call{
		ep:      epSecurity,
		subject: fmt.Sprintf("manifest %s of %q", digest, namespace+"/"+repo),
		path:    p + "/security",
		query:   url.Values{"vulnerabilities": {"true"}},
		limit:   securityBodyLimit,
	}
	err := c.get(ctx, cl, &body, func() *Error {
		switch {
		case body.Status == nil || *body.Status == "":
			return malformed(`the body has no "status"`)
		case *body.Status == "scanned" && (body.Data == nil || body.Data.Layer == nil):
			return malformed(`the report is "scanned" but has no "data.Layer"`)
		}
		return nil
	})
	if err != nil {
		return SecurityReport{}, err
	}
	report := SecurityReport{Status: *body.Status}
	if body.Data == nil || body.Data.Layer == nil {
		return report, nil
	}
	report.Features = make([]Feature, 0, len(body.Data.Layer.Features))
	for _, f := range body.Data.Layer.Features {
		feature := Feature{Name: f.Name, Version: f.Version, AddedBy: f.AddedBy,
			Vulnerabilities: make([]Vulnerability, 0, len(f.Vulnerabilities))}
		for _, v := range f.Vulnerabilities {
			vuln := Vulnerability{Name: v.Name, Severity: v.Severity, Link: v.Link,
				FixedBy: v.FixedBy, Description: v.Description, NamespaceName: v.NamespaceName}
			if m := v.Metadata; m != nil && m.NVD != nil && m.NVD.CVSSv3 != nil {
				vuln.CVSSScore, vuln.CVSSVector = m.NVD.CVSSv3.Score.value, m.NVD.CVSSv3.Vectors
			}
			feature.Vulnerabilities = append(feature.Vulnerabilities, vuln)
		}
		report.Features = append(report.Features, feature)
	}
	return report, nil
}

// featureJSON is a feature as Quay sends it; field names match case-insensitively.
type featureJSON struct {
	Name, Version, AddedBy string
	Vulnerabilities        []vulnerabilityJSON
}

// vulnerabilityJSON is a vulnerability as Quay sends it.
type vulnerabilityJSON struct {
	Metadata *struct {
		NVD *struct {
			CVSSv3 *struct {
				Score   score
				Vectors string
			}
		}
	}
	Name, Severity, Link, FixedBy, Description, NamespaceName string
}

// score is a CVSS score that Quay sends as a number, or as "" when it has none.
type score struct{ value *float64 }

// UnmarshalJSON accepts a number, "" and null.
func (s *score) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `""`, "null":
		s.value = nil
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	s.value = &f
	return nil
}
