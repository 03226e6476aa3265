package quay

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// Repository is one entry of the repository list.
type Repository struct {
	Namespace string
	// Name may contain "/" (Quay's extended repository names).
	Name     string
	IsPublic bool
	// State is NORMAL, READ_ONLY, MIRROR or ORG_MIRROR; "" when Quay sends null.
	State string
	// LastModified is the push time of the newest alive tag; nil when there is none.
	LastModified *time.Time
}

// RepositoryPage is one page of at most 100 repositories.
type RepositoryPage struct {
	Repositories []Repository
	// NextPage is the token of the following page; "" on the last page.
	NextPage string
}

// Repositories fetches one page of the repositories of namespace visible to the token:
// GET /api/v1/repository?namespace=N&last_modified=true[&next_page=T], nextPage "" for the
// first page. Quay's page size is fixed at 100, and next_page is absent on the last page.
//
// A first page without any repository is an error of KindEmptyNamespace: an expired or revoked
// token gets exactly that answer from Quay, so "empty" is only believable after WhoAmI has
// accepted the token and the namespace is known to be empty or invisible to its user.
func (c *Client) Repositories(
	ctx context.Context, namespace, nextPage string,
) (RepositoryPage, error) {
	if err := checkSegment("namespace", namespace, namespace); err != nil {
		return RepositoryPage{}, err
	}
	// public=true: without it Quay omits the namespace's public repositories that the user
	// has no explicit permission on; the namespace filter still applies.
	query := url.Values{"namespace": {namespace}, "last_modified": {"true"}, "public": {"true"}}
	if nextPage != "" {
		query.Set("next_page", nextPage)
	}
	var body struct {
		Repositories *[]struct {
			Namespace    string  `json:"namespace"`
			Name         string  `json:"name"`
			IsPublic     bool    `json:"is_public"`
			State        *string `json:"state"`
			LastModified *int64  `json:"last_modified"`
		} `json:"repositories"`
		NextPage *string `json:"next_page"`
	}
	cl := call{
		ep:      epRepositories,
		subject: fmt.Sprintf("the repositories of namespace %q", namespace),
		path:    "/repository",
		query:   query,
	}
	err := c.get(ctx, cl, &body, func() *Error {
		if body.Repositories == nil {
			return malformed(`the body has no "repositories" array`)
		}
		for i, r := range *body.Repositories {
			if r.Namespace == "" || r.Name == "" {
				return malformed(`repository %d has no "namespace" or "name"`, i)
			}
			if hasControl(r.Name) {
				return malformed("repository %d has a name with control characters: %q", i,
					r.Name)
			}
		}
		if nextPage == "" && len(*body.Repositories) == 0 {
			return &Error{Kind: KindEmptyNamespace,
				problem: fmt.Sprintf("namespace %q lists no repositories: it is empty, the "+
					"token's user cannot see its repositories, or the token is invalid or "+
					"expired (Quay answers a bad token with an empty list)", namespace),
				fix: "check the token with WhoAmI and the user's read access to the namespace"}
		}
		return nil
	})
	if err != nil {
		return RepositoryPage{}, err
	}
	page := RepositoryPage{Repositories: make([]Repository, 0, len(*body.Repositories))}
	if body.NextPage != nil {
		page.NextPage = *body.NextPage
	}
	for _, r := range *body.Repositories {
		repo := Repository{Namespace: r.Namespace, Name: r.Name, IsPublic: r.IsPublic}
		if r.State != nil {
			repo.State = *r.State
		}
		if r.LastModified != nil {
			t := time.Unix(*r.LastModified, 0).UTC()
			repo.LastModified = &t
		}
		page.Repositories = append(page.Repositories, repo)
	}
	return page, nil
}

// EachRepository walks the repository pages of namespace from nextPage ("" for the first),
// calling fn with each page; page.NextPage is the token of the following page, for a caller to
// checkpoint, and "" on the last. fn's error stops the walk and is returned as it is. A walk
// from the first page of a namespace without repositories fails with KindEmptyNamespace.
//
// Quay restarts silently from the first page on a bad or expired (2-day) token. Within a walk
// that shows as a token seen before or a page of repositories all seen before, and the walk
// stops with an error wrapping ErrNoProgress. A walk resumed from an expired token restarts
// from the first page undetectably; it ends normally after listing everything again.
func (c *Client) EachRepository(ctx context.Context, namespace, nextPage string,
	fn func(page RepositoryPage) error) error {
	tokens := map[string]bool{}
	seen := map[string]bool{}
	token := nextPage
	for n := 1; ; n++ {
		tokens[token] = true
		page, err := c.Repositories(ctx, namespace, token)
		if err != nil {
			return err
		}
		if page.NextPage != "" && tokens[page.NextPage] {
			return fmt.Errorf("list repositories of %q: page %d of the walk links to a page "+
				"token already used: %w", namespace, n, ErrNoProgress)
		}
		fresh := 0
		for _, r := range page.Repositories {
			key := r.Namespace + "/" + r.Name
			if !seen[key] {
				seen[key] = true
				fresh++
			}
		}
		if fresh == 0 && len(page.Repositories) > 0 {
			return fmt.Errorf("list repositories of %q: page %d of the walk only repeats "+
				"repositories already listed (Quay restarted the listing, probably on an "+
				"expired page token): %w", namespace, n, ErrNoProgress)
		}
		if err := fn(page); err != nil {
			return err
		}
		if page.NextPage == "" {
			return nil
		}
		token = page.NextPage
	}
}
