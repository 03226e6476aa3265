package web

import (
	"net/http"
	"net/url"
	"time"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/store"
)

// historyLimit bounds the decisions an image page lists; the newest come first.
const historyLimit = 200

type imagePage struct {
	Title      string
	OrgName    string
	OrgURL     string
	RepoURL    string
	Repository string
	Digest     string
	Created    string
	Tags       []imageTagRow
	// Accessories are the image's signature, attestation and SBOM tags.
	Accessories []imageTagRow
	Rules       []ruleView
	History     []historyRow
	// HistoryCut is set when the image has more decisions than the page lists.
	HistoryCut   bool
	HistoryLimit int
	Vulns        vulnSection
}

type imageTagRow struct {
	Name         string
	Created      string
	Ended        string
	Size         string
	ManifestList bool
	Decision     string
	Explanation  string
	RunURL       string
}

// ruleView is one rule that decided some of the image's tags, with the tags it decided.
type ruleView struct {
	Explanation string
	Tags        []string
}

type historyRow struct {
	RunURL      string
	RunID       int64
	RunStatus   string
	EvaluatedAt string
	Tag         string
	Decision    string
	Explanation string
}

func (s *server) image(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID, ok := pathID(r, "id")
	repo, digest := r.URL.Query().Get("repo"), r.PathValue("digest")
	if !ok || repo == "" {
		s.fail(w, r, http.StatusNotFound, "An image is named by its organization, its "+
			"digest and its repository (?repo=).")
		return
	}
	org, err := s.store.Organization(ctx, orgID)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	tags, err := s.store.ImageTags(ctx, org.ID, repo, digest)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	history, err := s.store.ImageHistory(ctx, org.ID, repo, digest, historyLimit+1)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	vulns, err := s.imageVulns(ctx, org, repo, digest)
	if err != nil {
		s.failStore(w, r, err)
		return
	}
	page := imagePage{Title: repo + " @ " + shortDigest(digest), OrgName: org.Name,
		OrgURL: orgURL(org.ID, nil), RepoURL: orgURL(org.ID, url.Values{"repo": {repo}}),
		Repository: repo, Digest: digest, HistoryLimit: historyLimit, Vulns: vulns}
	rules := map[string]int{}
	var created time.Time
	for _, t := range tags {
		row := newImageTagRow(t)
		page.Vulns.Pending = page.Vulns.Pending || t.Kind == policy.KindScan
		if t.Accessory {
			page.Accessories = append(page.Accessories, row)
		} else {
			page.Tags = append(page.Tags, row)
			if t.Start.After(created) {
				created = t.Start
			}
		}
		if row.Explanation == "" {
			continue
		}
		if i, ok := rules[row.Explanation]; ok {
			page.Rules[i].Tags = append(page.Rules[i].Tags, t.Name)
			continue
		}
		rules[row.Explanation] = len(page.Rules)
		page.Rules = append(page.Rules, ruleView{Explanation: row.Explanation,
			Tags: []string{t.Name}})
	}
	page.Created = formatTime(created)
	if len(history) > historyLimit {
		history, page.HistoryCut = history[:historyLimit], true
	}
	for _, h := range history {
		page.History = append(page.History, historyRow{RunURL: runURL(h.RunID), RunID: h.RunID,
			RunStatus: h.RunStatus, EvaluatedAt: formatTime(h.EvaluatedAt), Tag: h.Tag,
			Decision: string(h.Kind), Explanation: explain(h.Kind, h.Reasons, h.Settings)})
	}
	s.render(w, r, http.StatusOK, "image.html", page)
}

func newImageTagRow(t store.ImageTag) imageTagRow {
	row := imageTagRow{Name: t.Name, Created: formatTime(t.Start), ManifestList: t.IsManifestList,
		Decision: string(t.Kind)}
	if t.End != nil {
		row.Ended = formatTime(*t.End)
	}
	if t.Size != nil {
		row.Size = byteSize(*t.Size)
	}
	if t.Kind != "" {
		row.Explanation = explain(t.Kind, t.Reasons, t.Settings)
		row.RunURL = runURL(t.DecidedRunID)
	}
	return row
}
