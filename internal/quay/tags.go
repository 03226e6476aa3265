package quay

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const (
	// tagPageSize is Quay's largest tag page.
	tagPageSize = 100
	// maxTagPages stops a walk at a million tags, ten times more than any repository seen: past
	// that the server is presumed to invent pages.
	maxTagPages = 10_000
	// maxStalePages is how many pages in a row may bring only rows already delivered. Pushes
	// during a walk shift rows to later pages, so one such page is possible when 100 pushes
	// land between two requests; three in a row mean the server is not paging.
	maxStalePages = 3
)

// Tag is one active tag row.
type Tag struct {
	Name           string
	ManifestDigest string
	// Start is the push time (start_ts), zero when absent.
	Start time.Time
	// End is end_ts, nil when absent. In the past the tag is dead; in the future it is
	// scheduled to expire and still active.
	End *time.Time
	// Size is the compressed size of the layers, nil for manifest lists.
	Size           *int64
	IsManifestList bool
	// Reversion is true when the tag was created by a restore.
	Reversion bool
}

// TagPage is one page of tags.
type TagPage struct {
	Tags          []Tag
	Page          int
	HasAdditional bool
}

// Tags fetches one page of at most 100 active tags, newest first:
// GET /api/v1/repository/{ns}/{repo}/tag/?onlyActiveTags=true&limit=100&page=N. Pages count
// from 1; a page below 1 means 1. repo may contain "/": each segment is escaped on its own.
func (c *Client) Tags(ctx context.Context, namespace, repo string, page int) (TagPage, error) {
	return c.tagPage(ctx, namespace, repo, "", max(page, 1))
}

// ActiveTag looks up the active row of one tag (?specificTag=NAME&onlyActiveTags=true), to
// confirm that a tag missing from a walk is really gone: offset paging skips rows that
// deletions shift onto pages already read. ok is false when no active row has that name.
func (c *Client) ActiveTag(ctx context.Context, namespace, repo, tag string) (Tag, bool, error) {
	if tag == "" {
		return Tag{}, false, argError("tag name is empty")
	}
	page, err := c.tagPage(ctx, namespace, repo, tag, 1)
	if err != nil {
		return Tag{}, false, err
	}
	var found Tag
	ok := false
	for _, t := range page.Tags {
		if t.Name == tag && (!ok || t.Start.After(found.Start)) {
			found, ok = t, true
		}
	}
	return found, ok, nil
}

// tagPage fetches one page of active tags, of one name only when specific is not "".
func (c *Client) tagPage(
	ctx context.Context, namespace, repo, specific string, page int,
) (TagPage, error) {
	p, perr := repoPath(namespace, repo)
	if perr != nil {
		return TagPage{}, perr
	}
	query := url.Values{
		"onlyActiveTags": {"true"},
		"limit":          {strconv.Itoa(tagPageSize)},
		"page":           {strconv.Itoa(page)},
	}
	if specific != "" {
		query.Set("specificTag", specific)
	}
	var body struct {
		Tags *[]struct {
			Name           string `json:"name"`
			Reversion      bool   `json:"reversion"`
			StartTS        *int64 `json:"start_ts"`
			EndTS          *int64 `json:"end_ts"`
			ManifestDigest string `json:"manifest_digest"`
			IsManifestList bool   `json:"is_manifest_list"`
			Size           *int64 `json:"size"`
		} `json:"tags"`
		Page          *int  `json:"page"`
		HasAdditional *bool `json:"has_additional"`
	}
	cl := call{
		ep:      epRepository,
		subject: fmt.Sprintf("repository %q", namespace+"/"+repo),
		path:    p + "/tag/",
		query:   query,
	}
	err := c.get(ctx, cl, &body, func() *Error {
		switch {
		case body.Tags == nil:
			return malformed(`the body has no "tags" array`)
		case body.HasAdditional == nil:
			return malformed(`the body has no "has_additional"`)
		case body.Page != nil && *body.Page != page:
			return malformed("the body is page %d, not the page %d asked for", *body.Page, page)
		}
		for i, t := range *body.Tags {
			switch {
			case t.Name == "" || t.ManifestDigest == "":
				return malformed(`tag %d has no "name" or "manifest_digest"`, i)
			case hasControl(t.Name):
				return malformed("tag %d has a name with control characters: %q", i, t.Name)
			case !digestPattern.MatchString(t.ManifestDigest):
				return malformed("tag %q has manifest_digest %q, which is not a digest", t.Name,
					t.ManifestDigest)
			case !plausibleTime(t.StartTS) || !plausibleTime(t.EndTS):
				return malformed("tag %q has a start_ts or end_ts outside the years 1970-9999",
					t.Name)
			}
		}
		return nil
	})
	if err != nil {
		return TagPage{}, err
	}
	out := TagPage{Page: page, HasAdditional: *body.HasAdditional,
		Tags: make([]Tag, 0, len(*body.Tags))}
	for _, t := range *body.Tags {
		tag := Tag{Name: t.Name, ManifestDigest: t.ManifestDigest, Size: t.Size,
			IsManifestList: t.IsManifestList, Reversion: t.Reversion}
		if t.StartTS != nil && *t.StartTS > 0 {
			tag.Start = time.Unix(*t.StartTS, 0).UTC()
		}
		if t.EndTS != nil {
			end := time.Unix(*t.EndTS, 0).UTC()
			tag.End = &end
		}
		out.Tags = append(out.Tags, tag)
	}
	return out, nil
}

// EachTagPage walks the active tags of a repository from startPage until has_additional is
// false, calling fn(page, tags, next) per page, where next is the page to fetch after this one
// (for a checkpoint) and 0 after the last. fn's error stops the walk and is returned as it is.
//
// Offset paging shifts under concurrent pushes, so the walk de-duplicates by tag name, which
// is unique among active tags: fn gets a page's rows minus those whose name was already
// delivered in this walk with the same or a newer start_ts, and two rows of one name within a
// page collapse to the newer. A row newer than the one delivered for its name (the tag was
// pushed again) is delivered again, so a caller that upserts by name ends with the newest row.
// Rows shifted onto pages already read by deletions are missed; check with ActiveTag before
// treating a tag as gone.
//
// The walk stops with an error wrapping ErrNoProgress when a page is empty yet claims more,
// when three pages in a row bring no row not delivered before, or after 10,000 pages.
func (c *Client) EachTagPage(ctx context.Context, namespace, repo string, startPage int,
	fn func(page int, tags []Tag, next int) error) error {
	seen := map[string]time.Time{}
	stale := 0
	startPage = max(startPage, 1)
	for page := startPage; ; page++ {
		if page-startPage >= maxTagPages {
			return fmt.Errorf("list tags of %s/%s: stopped after %d pages: %w",
				namespace, repo, maxTagPages, ErrNoProgress)
		}
		tp, err := c.Tags(ctx, namespace, repo, page)
		if err != nil {
			return err
		}
		fresh := dedupeTags(tp.Tags, seen)
		if tp.HasAdditional {
			if len(tp.Tags) == 0 {
				return fmt.Errorf("list tags of %s/%s: page %d is empty but claims more "+
					"pages: %w", namespace, repo, page, ErrNoProgress)
			}
			if len(fresh) == 0 {
				stale++
			} else {
				stale = 0
			}
			if stale >= maxStalePages {
				return fmt.Errorf("list tags of %s/%s: pages %d to %d only repeat tags "+
					"already listed: %w", namespace, repo, page-stale+1, page, ErrNoProgress)
			}
		}
		next := 0
		if tp.HasAdditional {
			next = page + 1
		}
		if err := fn(page, fresh, next); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
	}
}

// dedupeTags returns the rows of one page that are new to seen, the newest start per name
// delivered so far, and records them there.
func dedupeTags(rows []Tag, seen map[string]time.Time) []Tag {
	fresh := make([]Tag, 0, len(rows))
	onPage := map[string]int{} // name → index in fresh
	for _, t := range rows {
		if i, ok := onPage[t.Name]; ok {
			if t.Start.After(fresh[i].Start) {
				fresh[i], seen[t.Name] = t, t.Start
			}
			continue
		}
		if prev, ok := seen[t.Name]; ok && !t.Start.After(prev) {
			continue
		}
		seen[t.Name] = t.Start
		onPage[t.Name] = len(fresh)
		fresh = append(fresh, t)
	}
	return fresh
}

// hasControl reports whether a registry-supplied name holds control characters, which Quay's
// name rules never allow and which would reach terminals and files as escape sequences.
func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

// maxUnix is the last second of the year 9999, where RFC 3339 ends.
const maxUnix = 253402300799

// plausibleTime accepts an absent Unix time or one within RFC 3339's years.
func plausibleTime(ts *int64) bool { return ts == nil || (*ts >= 0 && *ts <= maxUnix) }
