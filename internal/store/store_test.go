package store_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
	"quaykeeper/internal/schedule"
	"quaykeeper/internal/secret"
	"quaykeeper/internal/store"
	"quaykeeper/internal/testenv"
)

type fixture struct {
	ctx   context.Context
	url   string
	store *store.Store
	box   *secret.Box
	org   store.Organization
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	url := testenv.Database(t)
	st, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(st.Close)
	box, err := secret.NewBox(bytes.Repeat([]byte{1}, secret.KeySize))
	require.NoError(t, err)
	conn, err := st.SaveConnection(ctx, box, store.NewConnection{Host: "https://quay.test",
		Username: "alice", TokenName: "quaykeeper-alice-20261204", Token: "s3cr3t-token"})
	require.NoError(t, err)
	orgs, err := st.AddOrganizations(ctx, conn.ID, []string{"acme"})
	require.NoError(t, err)
	require.Len(t, orgs, 1)
	org, err := st.FindOrganization(ctx, "acme", "")
	require.NoError(t, err)
	require.Equal(t, orgs[0], org)
	return &fixture{ctx: ctx, url: url, store: st, box: box, org: org}
}

func (f *fixture) startRun(t *testing.T, wfRun string) store.Run {
	t.Helper()
	run, err := f.store.StartRun(f.ctx, f.org.ID, "quay-sync/quay.test/acme", wfRun,
		time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return run
}

func TestOpenIsRepeatable(t *testing.T) {
	f := setup(t)
	again, err := store.Open(f.ctx, f.url, slog.New(slog.DiscardHandler))
	require.NoError(t, err, "migrations applied twice")
	again.Close()
}

func TestTokenIsSealedAtRest(t *testing.T) {
	f := setup(t)
	conn, err := pgx.Connect(f.ctx, f.url)
	require.NoError(t, err)
	defer conn.Close(f.ctx)
	var sealed []byte
	require.NoError(t, conn.QueryRow(f.ctx, `SELECT token_sealed FROM connections`).Scan(&sealed))
	require.NotContains(t, string(sealed), "s3cr3t-token")

	c, err := f.store.Connection(f.ctx, f.org.ConnectionID)
	require.NoError(t, err)
	token, err := c.Token(f.box)
	require.NoError(t, err)
	require.Equal(t, "s3cr3t-token", token)
	require.Equal(t, policy.DefaultSettings(), f.org.Settings)
}

func TestReconnectKeepsSettingsAndAddsOrganizations(t *testing.T) {
	f := setup(t)
	require.NoError(t, f.store.SetNeedsToken(f.ctx, f.org.ConnectionID, "token rejected"))
	conn, err := f.store.SaveConnection(f.ctx, f.box, store.NewConnection{
		Host: "https://quay.test", Username: "alice", TokenName: "n", Token: "new-token"})
	require.NoError(t, err)
	require.False(t, conn.NeedsToken, "a new token clears the need for one")
	_, err = f.store.AddOrganizations(f.ctx, conn.ID, []string{"acme", "beta"})
	require.NoError(t, err)
	orgs, err := f.store.Organizations(f.ctx)
	require.NoError(t, err)
	require.Len(t, orgs, 2)
	require.Equal(t, f.org.ID, orgs[0].ID)

	require.NoError(t, f.store.DropOrganization(f.ctx, orgs[1].ID))
	orgs, _ = f.store.Organizations(f.ctx)
	require.Len(t, orgs, 1, "a dropped organization is not listed")
	back, err := f.store.AddOrganizations(f.ctx, conn.ID, []string{"beta"})
	require.NoError(t, err)
	require.Len(t, back, 1)

	_, err = f.store.FindOrganization(f.ctx, "gamma", "")
	require.ErrorContains(t, err, `unknown organization "gamma"`)
	require.ErrorContains(t, err, "acme (https://quay.test)")
}

func TestStartRunIsIdempotent(t *testing.T) {
	f := setup(t)
	a, b := f.startRun(t, "r1"), f.startRun(t, "r1")
	require.Equal(t, a.ID, b.ID)
	require.Equal(t, store.RunRunning, a.Status)
	require.NotEqual(t, a.ID, f.startRun(t, "r2").ID)
}

func tagAt(name, digest string, start int64) store.TagRecord {
	return store.TagRecord{Name: name, Digest: digest, Start: time.Unix(start, 0)}
}

func collect(t *testing.T, seq func(func([]store.StoredTag, error) bool)) []store.StoredTag {
	t.Helper()
	var all []store.StoredTag
	for group, err := range seq {
		require.NoError(t, err)
		require.NotEmpty(t, group)
		for _, tag := range group {
			require.Equal(t, group[0].Repository, tag.Repository, "a group is one repository")
		}
		all = append(all, group...)
	}
	return all
}

func TestSaveTagsDeduplicatesAndIsIdempotent(t *testing.T) {
	f := setup(t)
	run := f.startRun(t, "r1")
	require.NoError(t, f.store.SaveRepositories(f.ctx, f.org.ID, run.ID,
		[]store.RepositoryRecord{{Name: "api"}, {Name: "team/web"}}))
	repos, err := f.store.RunRepositories(f.ctx, run.ID, 0, 10)
	require.NoError(t, err)
	require.Len(t, repos, 2)

	page1 := []store.TagRecord{tagAt("latest", "sha256:b", 200), tagAt("v1", "sha256:a", 100)}
	// The next page repeats "latest" at its old position (a push shifted the rows).
	page2 := []store.TagRecord{tagAt("latest", "sha256:a", 100), tagAt("v0", "sha256:0", 50)}
	for range 2 {
		require.NoError(t, f.store.SaveTags(f.ctx, repos[0].ID, run.ID, page1))
		require.NoError(t, f.store.SaveTags(f.ctx, repos[0].ID, run.ID, page2))
	}
	require.NoError(t, f.store.SaveTags(f.ctx, repos[1].ID, run.ID,
		[]store.TagRecord{tagAt("x", "sha256:c", 10)}))

	tags := collect(t, f.store.RunTags(f.ctx, run.ID))
	require.Len(t, tags, 4)
	require.Equal(t, "latest", tags[0].Name)
	require.Equal(t, "sha256:b", tags[0].Digest, "the newer row of a repeated name wins")
	crawl, err := f.store.CompleteCrawl(f.ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, 2, crawl.Repositories)
	require.Equal(t, 4, crawl.Tags)
}

func TestDecisionsPruneAndRemoval(t *testing.T) {
	f := setup(t)
	run := f.startRun(t, "r1")
	require.NoError(t, f.store.SaveRepositories(f.ctx, f.org.ID, run.ID,
		[]store.RepositoryRecord{{Name: "api"}}))
	repos, _ := f.store.RunRepositories(f.ctx, run.ID, 0, 10)
	require.NoError(t, f.store.SaveTags(f.ctx, repos[0].ID, run.ID, []store.TagRecord{
		tagAt("new", "sha256:b", 200), tagAt("old", "sha256:a", 100)}))
	tags := collect(t, f.store.RunTags(f.ctx, run.ID))

	_, err := f.store.Prune(f.ctx, run.ID)
	require.ErrorContains(t, err, "not complete", "an incomplete crawl never prunes")

	decide := func(run store.Run, kinds map[string]policy.Kind) store.Summary {
		t.Helper()
		var decs []store.Decision
		for _, tag := range tags {
			if k, ok := kinds[tag.Name]; ok {
				decs = append(decs, store.Decision{TagID: tag.ID, Repository: tag.Repository,
					Tag: tag.Name, Digest: tag.Digest, Created: tag.Created, Kind: k,
					Reasons: []policy.Reason{"r"}})
			}
		}
		sum, err := f.store.ReplaceDecisions(f.ctx, run.ID,
			func(yield func(store.Decision, error) bool) {
				for _, d := range decs {
					if !yield(d, nil) {
						return
					}
				}
			})
		require.NoError(t, err)
		return sum
	}
	_, err = f.store.CompleteCrawl(f.ctx, run.ID)
	require.NoError(t, err)
	kinds := map[string]policy.Kind{"new": policy.KindScan, "old": policy.KindPrune}
	decide(run, kinds)
	sum := decide(run, kinds) // a retried evaluation replaces, never duplicates
	require.Equal(t, store.Summary{Scan: 1, Prune: 1}, sum)
	stored, err := f.store.Decisions(f.ctx, run.ID)
	require.NoError(t, err)
	require.Len(t, stored, 2)

	applied, err := f.store.ApplyDecisions(f.ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, 1, applied)
	pruned, err := f.store.Prune(f.ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, 1, pruned)
	require.NoError(t, f.store.FinishRun(f.ctx, run.ID, sum))

	// The next complete crawl no longer lists "new": it is in the inventory, so it is
	// reported removed; "old" was pruned already, so it is not.
	next := f.startRun(t, "r2")
	require.NoError(t, f.store.SaveRepositories(f.ctx, f.org.ID, next.ID,
		[]store.RepositoryRecord{{Name: "api"}}))
	removed, err := f.store.RemovedTags(f.ctx, f.org.ID, next.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, names(removed))

	unseen, err := f.store.UnseenTags(f.ctx, repos[0].ID, next.ID, next.EvaluatedAt)
	require.NoError(t, err)
	require.Equal(t, []string{"new", "old"}, unseen)
	require.NoError(t, f.store.MarkTagsGone(f.ctx, repos[0].ID, []string{"old"},
		next.EvaluatedAt))
	unseen, _ = f.store.UnseenTags(f.ctx, repos[0].ID, next.ID, next.EvaluatedAt)
	require.Equal(t, []string{"new"}, unseen, "a confirmed-gone tag is not looked up again")

	latest, err := f.store.LatestRun(f.ctx, f.org.ID, store.RunCompleted)
	require.NoError(t, err)
	require.Equal(t, run.ID, latest.ID)
	require.NoError(t, f.store.FailRun(f.ctx, run.ID, "late failure"))
	again, _ := f.store.Run(f.ctx, run.ID)
	require.Equal(t, store.RunCompleted, again.Status, "a completed run stays completed")
	require.Equal(t, "late failure", again.Error, "but keeps the error of the later step")
	_, err = f.store.Run(f.ctx, 9999)
	require.True(t, errors.Is(err, store.ErrNotFound))
}

func names(tags []store.StoredTag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}

func TestUpdateSettingsRecordsTheChangeOnce(t *testing.T) {
	f := setup(t)
	next := store.OrgSettings{Retention: policy.Settings{TagRegex: "v.*", AgeThresholdMonths: 3,
		KeepLatest: 2}, Schedule: schedule.Spec{Every: time.Hour}}
	for range 2 {
		old, err := f.store.UpdateSettings(f.ctx, f.org.ID, next, "bob", "signal-1")
		require.NoError(t, err)
		if old.Retention != next.Retention {
			require.Equal(t, policy.DefaultSettings(), old.Retention)
		}
	}
	org, err := f.store.Organization(f.ctx, f.org.ID)
	require.NoError(t, err)
	require.Equal(t, next.Retention, org.Settings)
	require.Equal(t, next.Schedule, org.Schedule)
	changes, err := f.store.SettingsChanges(f.ctx, f.org.ID)
	require.NoError(t, err)
	require.Len(t, changes, 1, "a retried update records the change once")
	require.Equal(t, "bob", changes[0].Actor)
	require.Equal(t, policy.DefaultSettings(), changes[0].Old.Retention)
	require.Equal(t, schedule.Default(), changes[0].Old.Schedule)
	require.Equal(t, next, changes[0].New)
}

func TestReevaluationUsesTheLatestCrawl(t *testing.T) {
	f := setup(t)
	_, err := f.store.StartReevaluation(f.ctx, f.org.ID, "wf", "r0", time.Now())
	require.ErrorIs(t, err, store.ErrNotFound, "no crawl yet")
	run := f.startRun(t, "r1")
	require.NoError(t, f.store.SaveRepositories(f.ctx, f.org.ID, run.ID,
		[]store.RepositoryRecord{{Name: "api"}}))
	repos, _ := f.store.RunRepositories(f.ctx, run.ID, 0, 10)
	require.NoError(t, f.store.SaveTags(f.ctx, repos[0].ID, run.ID,
		[]store.TagRecord{tagAt("v1", "sha256:a", 100)}))
	_, err = f.store.CompleteCrawl(f.ctx, run.ID)
	require.NoError(t, err)
	re, err := f.store.StartReevaluation(f.ctx, f.org.ID, "wf", "r2", time.Now())
	require.NoError(t, err)
	require.Equal(t, store.KindReevaluate, re.Kind)
	require.Equal(t, run.ID, re.CrawlRunID)
	require.True(t, re.CrawlComplete)
	again, err := f.store.StartReevaluation(f.ctx, f.org.ID, "wf", "r2", time.Now())
	require.NoError(t, err)
	require.Equal(t, re.ID, again.ID)
	crawl, err := f.store.LatestCrawl(f.ctx, f.org.ID)
	require.NoError(t, err)
	require.Equal(t, run.ID, crawl.ID, "a re-evaluation is not a crawl")
	require.Len(t, collect(t, f.store.CrawledTags(f.ctx, f.org.ID)), 1,
		"a preview after a re-evaluation still sees the crawl")
}
