package web

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"quaykeeper/internal/policy"
)

func TestExplainPutsEveryDecisionInPlainWords(t *testing.T) {
	six := policy.DefaultSettings()
	one := policy.Settings{AgeThresholdMonths: 1, KeepLatest: 3}
	r := func(rs ...policy.Reason) []policy.Reason { return rs }
	tests := []struct {
		kind     policy.Kind
		reasons  []policy.Reason
		settings policy.Settings
		want     string
	}{
		{policy.KindScan, r(policy.ReasonLatestImage), six,
			"scanned: the newest image of the repository, pushed within 6 months"},
		{policy.KindScan, r(policy.ReasonTagMatchesRegex), six,
			"scanned: pushed within 6 months and the tag matches the tag regex"},
		{policy.KindScan, r(policy.ReasonTagMatchesRegex, policy.ReasonLatestImage), six,
			"scanned: the newest image of the repository, and the tag matches the tag regex"},
		{policy.KindRetain, r(policy.ReasonNotSelected), six, "kept: pushed within 6 months " +
			"but not the newest image and not matched by the tag regex"},
		{policy.KindRetain, r(policy.ReasonNotSelected), one, "kept: pushed within 1 month " +
			"but not one of the 3 newest images and not matched by the tag regex"},
		{policy.KindRetain, r(policy.ReasonDormantRepository), six,
			"kept: the repository had no push in 6 months"},
		{policy.KindRetain, r(policy.ReasonDormantRepository, policy.ReasonLatestImage), six,
			"kept: the newest image of a dormant repository (no push in 6 months)"},
		{policy.KindRetain, r(policy.ReasonLatestImage), one, "kept: one of the 3 newest " +
			"images of the repository, though the tag is older than 1 month"},
		{policy.KindRetain, r(policy.ReasonAccessory), six,
			"kept: signature/attestation of a kept image"},
		{policy.KindPrune, r(policy.ReasonAccessory), six,
			"pruned: signature/attestation of a pruned image"},
		{policy.KindPrune, r(policy.ReasonOrphanAccessory), six,
			"pruned: signature/attestation of an image that has no tag"},
		{policy.KindPrune, r(policy.ReasonOlderThanThreshold), six,
			"pruned: older than 6 months and not the newest image"},
		{policy.KindPrune, r(policy.ReasonTagRemoved), six, "pruned: no longer in the registry"},
		{policy.KindPrune, r("future_reason", policy.ReasonTagRemoved), six,
			"prune: future_reason, tag_removed"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, explain(tt.kind, tt.reasons, tt.settings))
		})
	}
}

// Every decision the policy makes has words: evaluate a repository that reaches every rule.
func TestExplainKnowsEveryOutcomeOfThePolicy(t *testing.T) {
	six := policy.DefaultSettings()
	p, err := policy.Compile(policy.Settings{TagRegex: "v1.*", AgeThresholdMonths: 6,
		KeepLatest: 1})
	require.NoError(t, err)
	now := time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)
	digest := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	accessory := func(d string) string { return "sha256-" + d[len("sha256:"):] + ".sig" }
	named := func(name, d string, daysAgo int) policy.Tag {
		return policy.Tag{Name: name, Digest: d, Created: now.AddDate(0, 0, -daysAgo)}
	}
	active := []policy.Tag{
		named("v1", digest("1"), 1), named("latest", digest("1"), 1),
		named("main", digest("2"), 1), named("v1.0", digest("3"), 2), named("dev", digest("4"), 3),
		named("old", digest("5"), 400), named("latest-old", digest("1"), 400),
		named(accessory(digest("1")), digest("a"), 1),
		named(accessory(digest("5")), digest("b"), 400),
		named(accessory(digest("9")), digest("c"), 1),
	}
	dormant := []policy.Tag{named("a", digest("6"), 400), named("b", digest("7"), 500)}
	seen := map[string]bool{}
	for _, tags := range [][]policy.Tag{active, dormant} {
		for _, res := range p.EvaluateRepository(now, tags) {
			words := explain(res.Decision.Kind, res.Decision.Reasons, six)
			require.NotRegexp(t, `^(scan|retain|prune): `, words, res.Decision)
			seen[words] = true
		}
	}
	require.Len(t, seen, 11, "every outcome but tag_removed appeared: %v", seen)
	require.Len(t, explanations, 12)
}
