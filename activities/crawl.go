package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/quay"
	"quaykeeper/internal/store"
)

// StartRunInput names the organization to sync and the instant its policy is evaluated at.
type StartRunInput struct {
	OrganizationID int64
	EvaluatedAt    time.Time
}

// StartRunResult identifies the run in PostgreSQL.
type StartRunResult struct {
	RunID    int64
	Settings policy.Settings
	// Repositories and Tags count the crawl a re-evaluation decides on.
	Repositories int
	Tags         int
}

// validOrganization loads an organization whose stored settings are valid; invalid ones fail
// the run at once, since no retry can mend them.
func (a *Activities) validOrganization(ctx context.Context, id int64) (store.Organization,
	error) {
	org, err := a.Store.Organization(ctx, id)
	if err != nil {
		return org, err
	}
	if err := org.Settings.Validate(); err != nil {
		return org, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("settings of %s: %v", org.Name, err), ErrTypeInvalidSettings, nil)
	}
	return org, nil
}

// StartRun validates the organization's settings and records the run with a snapshot of
// them, so that every later failure is recorded on the run. Calling it again for the same
// workflow execution returns the same run.
func (a *Activities) StartRun(ctx context.Context, in StartRunInput) (StartRunResult, error) {
	org, err := a.validOrganization(ctx, in.OrganizationID)
	if err != nil {
		return StartRunResult{}, err
	}
	info := activity.GetInfo(ctx)
	run, err := a.Store.StartRun(ctx, org.ID, info.WorkflowExecution.ID,
		info.WorkflowExecution.RunID, in.EvaluatedAt)
	if err != nil {
		return StartRunResult{}, err
	}
	activity.GetLogger(ctx).Info("run started", "runId", run.ID, "organization", org.Name,
		"host", org.Host)
	return StartRunResult{RunID: run.ID, Settings: run.Settings}, nil
}

// StartReevaluation records a run that decides again on the organization's latest complete
// crawl with its current settings. Without a complete crawl there is nothing to decide on.
func (a *Activities) StartReevaluation(ctx context.Context, in StartRunInput) (StartRunResult,
	error) {
	org, err := a.validOrganization(ctx, in.OrganizationID)
	if err != nil {
		return StartRunResult{}, err
	}
	info := activity.GetInfo(ctx)
	run, err := a.Store.StartReevaluation(ctx, org.ID, info.WorkflowExecution.ID,
		info.WorkflowExecution.RunID, in.EvaluatedAt)
	if errors.Is(err, store.ErrNotFound) {
		return StartRunResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"%s has no complete crawl to re-evaluate yet; the next sync decides with the new "+
				"settings", org.Name), ErrTypeIncompleteCrawl, nil)
	}
	if err != nil {
		return StartRunResult{}, err
	}
	return StartRunResult{RunID: run.ID, Settings: run.Settings, Repositories: run.Repositories,
		Tags: run.Tags}, nil
}

// RunInput names a run.
type RunInput struct {
	RunID int64
}

// CheckAccess checks that the token is alive and that the organization exists. Quay answers
// a dead token as an anonymous caller with empty lists, so every run starts with the
// who-am-I check.
func (a *Activities) CheckAccess(ctx context.Context, in RunInput) error {
	_, org, err := a.runAndOrg(ctx, in.RunID)
	if err != nil {
		return err
	}
	client, err := a.quayClient(ctx, org)
	if err != nil {
		return err
	}
	user, err := client.WhoAmI(ctx)
	if err != nil {
		return quayFailure(err)
	}
	if err := client.Organization(ctx, org.Name); err != nil {
		if quay.KindOf(err) == quay.KindNotFound {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"organization %q does not exist on %s (or is a user namespace); check the "+
					"name", org.Name, org.Host), ErrTypeUnknownOrg, nil)
		}
		return quayFailure(err)
	}
	activity.GetLogger(ctx).Info("token accepted", "runId", in.RunID, "quayUser", user.Username)
	return nil
}

// ListRepositoriesResult counts the repositories the crawl listed.
type ListRepositoriesResult struct {
	Repositories int
}

// ListRepositories pages through the organization's repositories and records them. It
// heartbeats the next page token, so a retry resumes where the last attempt stopped.
func (a *Activities) ListRepositories(ctx context.Context, in RunInput) (
	ListRepositoriesResult, error) {
	run, org, err := a.runAndOrg(ctx, in.RunID)
	if err != nil {
		return ListRepositoriesResult{}, err
	}
	client, err := a.quayClient(ctx, org)
	if err != nil {
		return ListRepositoriesResult{}, err
	}
	var next string
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &next); err != nil {
			next = ""
		}
	}
	err = client.EachRepository(ctx, org.Name, next, func(page quay.RepositoryPage) error {
		records := make([]store.RepositoryRecord, len(page.Repositories))
		for i, r := range page.Repositories {
			records[i] = store.RepositoryRecord{Name: r.Name, IsPublic: r.IsPublic,
				LastModified: r.LastModified}
		}
		if err := a.Store.SaveRepositories(ctx, org.ID, run.ID, records); err != nil {
			return err
		}
		activity.RecordHeartbeat(ctx, page.NextPage)
		return nil
	})
	if quay.KindOf(err) == quay.KindEmptyNamespace {
		// Quay answers a dead token, and a user who lost access, with an empty list: only
		// an organization that never listed a repository may really be empty.
		known, kerr := a.Store.KnownRepositories(ctx, org.ID, run.ID)
		if kerr != nil {
			return ListRepositoriesResult{}, kerr
		}
		if known > 0 {
			return ListRepositoriesResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("Quay listed no repositories in %s, but earlier syncs listed %d: "+
					"the token's user may have lost access to the organization, or the token "+
					"was revoked; check its membership or rotate the token. Nothing was "+
					"pruned.", org.Name, known), ErrTypeNamespaceEmptied, nil)
		}
		err = nil
	}
	if err != nil {
		return ListRepositoriesResult{}, quayFailure(err)
	}
	listed, err := a.Store.CountRunRepositories(ctx, run.ID)
	if err != nil {
		return ListRepositoriesResult{}, err
	}
	return ListRepositoriesResult{Repositories: listed}, nil
}

// CrawlTagsInput selects a batch of the run's repositories by offset.
type CrawlTagsInput struct {
	RunID  int64
	Offset int
	Limit  int
}

// CrawlTagsResult counts what a batch crawled.
type CrawlTagsResult struct {
	Repositories int
	Tags         int
	Confirmed    int // vanished tags that a specific lookup found still active
	Gone         int // vanished tags that a specific lookup confirmed gone
}

// crawlCursor is the heartbeat of CrawlTags: the repository of the batch in progress and the
// next tag page to read in it, plus the counts so far.
type crawlCursor struct {
	Repo   int
	Page   int
	Result CrawlTagsResult
}

// CrawlTags lists and stores the active tags of a batch of repositories, page by page,
// heartbeating its cursor so a retry resumes at the page it stopped at. A tag the record held
// as active that the listing no longer shows is looked up on its own before it counts as
// gone: offset paging under concurrent pushes can skip rows.
func (a *Activities) CrawlTags(ctx context.Context, in CrawlTagsInput) (CrawlTagsResult,
	error) {
	run, org, err := a.runAndOrg(ctx, in.RunID)
	if err != nil {
		return CrawlTagsResult{}, err
	}
	client, err := a.quayClient(ctx, org)
	if err != nil {
		return CrawlTagsResult{}, err
	}
	repos, err := a.Store.RunRepositories(ctx, run.ID, in.Offset, in.Limit)
	if err != nil {
		return CrawlTagsResult{}, err
	}
	cur := crawlCursor{Page: 1}
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &cur); err != nil {
			cur = crawlCursor{Page: 1}
		}
	}
	for ; cur.Repo < len(repos); cur.Repo, cur.Page = cur.Repo+1, 1 {
		repo := repos[cur.Repo]
		err := client.EachTagPage(ctx, org.Name, repo.Name, cur.Page,
			func(page int, tags []quay.Tag, next int) error {
				if err := a.Store.SaveTags(ctx, repo.ID, run.ID, tagRecords(tags)); err != nil {
					return err
				}
				cur.Result.Tags += len(tags)
				a.Metrics.TagsCrawled(ctx, len(tags))
				cur.Page = next
				activity.RecordHeartbeat(ctx, cur)
				return nil
			})
		if err != nil {
			return CrawlTagsResult{}, quayFailure(fmt.Errorf("list tags of %s/%s: %w",
				org.Name, repo.Name, err))
		}
		if err := a.confirmVanished(ctx, client, org.Name, repo, run, &cur.Result); err != nil {
			return CrawlTagsResult{}, err
		}
		cur.Result.Repositories++
		activity.RecordHeartbeat(ctx, crawlCursor{Repo: cur.Repo + 1, Page: 1,
			Result: cur.Result})
	}
	return cur.Result, nil
}

// confirmVanished looks up, one by one, the repository's tags that the record holds as
// active but this crawl did not list, and records what Quay says of each.
func (a *Activities) confirmVanished(ctx context.Context, client *quay.Client, ns string,
	repo store.RepositoryRef, run store.Run, res *CrawlTagsResult) error {
	unseen, err := a.Store.UnseenTags(ctx, repo.ID, run.ID, run.EvaluatedAt)
	if err != nil || len(unseen) == 0 {
		return err
	}
	var still []quay.Tag
	var gone []string
	for _, name := range unseen {
		tag, ok, err := client.ActiveTag(ctx, ns, repo.Name, name)
		if err != nil {
			return quayFailure(fmt.Errorf("confirm tag %s/%s:%s: %w", ns, repo.Name, name, err))
		}
		if ok {
			still = append(still, tag)
		} else {
			gone = append(gone, name)
		}
	}
	if len(still) > 0 {
		if err := a.Store.SaveTags(ctx, repo.ID, run.ID, tagRecords(still)); err != nil {
			return err
		}
	}
	if len(gone) > 0 {
		if err := a.Store.MarkTagsGone(ctx, repo.ID, gone, run.EvaluatedAt); err != nil {
			return err
		}
	}
	res.Confirmed += len(still)
	res.Gone += len(gone)
	return nil
}

func tagRecords(tags []quay.Tag) []store.TagRecord {
	records := make([]store.TagRecord, len(tags))
	for i, t := range tags {
		records[i] = store.TagRecord{Name: t.Name, Digest: t.ManifestDigest, Start: t.Start,
			End: t.End, Size: t.Size, IsManifestList: t.IsManifestList}
	}
	return records
}

// runAndOrg loads a run and its organization.
func (a *Activities) runAndOrg(ctx context.Context, runID int64) (store.Run, store.Organization,
	error) {
	run, err := a.Store.Run(ctx, runID)
	if err != nil {
		return run, store.Organization{}, err
	}
	org, err := a.Store.Organization(ctx, run.OrganizationID)
	return run, org, err
}
