package quaysim

import (
	"net/http"
	"strings"
	"time"
)

type tagView struct {
	Name           string `json:"name"`
	Reversion      bool   `json:"reversion"`
	StartTS        int64  `json:"start_ts,omitempty"`
	EndTS          int64  `json:"end_ts,omitempty"`
	ManifestDigest string `json:"manifest_digest"`
	IsManifestList bool   `json:"is_manifest_list"`
	Size           *int64 `json:"size"`
	LastModified   string `json:"last_modified,omitempty"`
	Expiration     string `json:"expiration,omitempty"`
	// The sparse-manifest fields exist only for manifest lists.
	IsSparse               *bool           `json:"is_sparse,omitempty"`
	ChildManifestCount     *int            `json:"child_manifest_count,omitempty"`
	PresentChildCount      *int            `json:"present_child_count,omitempty"`
	ChildManifestsPresence map[string]bool `json:"child_manifests_presence,omitempty"`
}

type tagListView struct {
	Tags          []tagView `json:"tags"`
	Page          int64     `json:"page"`
	HasAdditional bool      `json:"has_additional"`
}

// formatDate is endpoints/api/__init__.py :: format_date: RFC 2822 in UTC with Python's
// "-0000" zone, the form email.utils.formatdate writes.
func formatDate(unix int64) string {
	return time.Unix(unix, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05") + " -0000"
}

// tagJSON is endpoints/api/tag.py :: _tag_dict with FEATURE_IMMUTABLE_TAGS off.
func tagJSON(row *tagRow) tagView {
	v := tagView{Name: row.Name, ManifestDigest: row.ManifestDigest,
		IsManifestList: row.IsManifestList}
	if row.StartTS > 0 {
		v.StartTS = row.StartTS
		v.LastModified = formatDate(row.StartTS)
	}
	if row.EndTS != nil {
		v.EndTS = *row.EndTS
		v.Expiration = formatDate(*row.EndTS)
	}
	if !row.IsManifestList {
		size := row.Size
		v.Size = &size
		return v
	}
	// Every child of a derived list is present, so no list is sparse.
	children := childManifests(row.ManifestDigest)
	sparse, count := false, len(children)
	v.IsSparse, v.ChildManifestCount, v.PresentChildCount = &sparse, &count, &count
	v.ChildManifestsPresence = make(map[string]bool, count)
	for _, c := range children {
		v.ChildManifestsPresence[c.digest] = true
	}
	return v
}

// The help texts of ListRepositoryTags' query parameters, which reqparse returns as the
// error message when a value does not convert.
const (
	limitHelp = "Limit to the number of results to return per page. Max 100."
	pageHelp  = "Page index for the results. Default 1."
)

// listTags is endpoints/api/tag.py :: ListRepositoryTags.get over
// oci/tag.py :: list_repository_tag_history: offset pages, newest first, history included
// unless onlyActiveTags.
func (s *Server) listTags(r *http.Request, id identity, m routeMatch, now int64) response {
	repo := s.st.repo(m.ns, m.repo)
	// Permission comes before existence (quirk 7): a missing repository fails canRead too.
	if !id.canRead(repo) {
		return unauthorized(r, id)
	}
	q := r.URL.Query()
	// reqparse checks the arguments in the reverse order of their decorators: page first.
	page, okPage := intParam(q, "page", 1)
	if !okPage {
		return message(http.StatusBadRequest, map[string]string{"page": pageHelp})
	}
	limit, okLimit := intParam(q, "limit", 50)
	if !okLimit {
		return message(http.StatusBadRequest, map[string]string{"limit": limitHelp})
	}
	page, limit = max(1, page), min(100, max(1, limit))
	match, errResp := tagFilter(q.Get("filter_tag_name"))
	if errResp != nil {
		return *errResp
	}
	specific := q.Get("specificTag")
	activeOnly := truthy(q, "onlyActiveTags", false)

	view := tagListView{Tags: []tagView{}, Page: page}
	// Pages past the end skip everything; the guard keeps huge pages from overflowing.
	skip := int64(len(repo.rows))
	if page-1 <= skip/limit {
		skip = (page - 1) * limit
	}
	for _, row := range repo.rows {
		if (specific != "" && row.Name != specific) || !match(row.Name) ||
			(activeOnly && !row.aliveAt(now)) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if int64(len(view.Tags)) == limit {
			view.HasAdditional = true
			break
		}
		view.Tags = append(view.Tags, tagJSON(row))
	}
	return ok(view)
}

// tagFilter parses filter_tag_name: like:<text> is a case-insensitive substring match (ILIKE
// on PostgreSQL), eq:<name> an exact one, and an unknown operation filters nothing.
func tagFilter(raw string) (func(string) bool, *response) {
	all := func(string) bool { return true }
	if raw == "" {
		return all, nil
	}
	op, value, found := strings.Cut(raw, ":")
	if !found {
		resp := message(http.StatusBadRequest, "Unsupported syntax for filter_tag_name. "+
			"Expected <operation>:<tag_name> where <operation>can be 'like' or 'eq'.")
		return nil, &resp
	}
	switch op {
	case "like":
		value = strings.ToLower(value)
		return func(name string) bool { return strings.Contains(strings.ToLower(name), value) },
			nil
	case "eq":
		return func(name string) bool { return name == value }, nil
	}
	return all, nil
}
