package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"quaykeeper/activities"
	"quaykeeper/internal/policy"
	"quaykeeper/internal/report"
	"quaykeeper/internal/store"
)

// report prints the latest completed run's decisions.
func (a *app) report(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	orgName := fs.String("org", "", "organization")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	format := fs.String("format", "table", "table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := report.CheckFormat(*format); err != nil {
		return fmt.Errorf("report: %v: %w", err, errUsage)
	}
	org, err := a.findOrg(ctx, *orgName, *host)
	if err != nil {
		return err
	}
	run, err := a.store.LatestRun(ctx, org.ID, store.RunCompleted)
	if errors.Is(err, store.ErrNotFound) {
		msg := fmt.Sprintf("%s has no completed run yet", org.Name)
		if last, lerr := a.store.LatestAnyRun(ctx, org.ID); lerr == nil && last.Error != "" {
			msg += fmt.Sprintf("; run %d failed: %s", last.ID, last.Error)
		}
		return fmt.Errorf("%s (run `starter sync --org %s --wait`)", msg, org.Name)
	}
	if err != nil {
		return err
	}
	decisions, err := a.store.Decisions(ctx, run.ID)
	if err != nil {
		return err
	}
	return report.New(org.Name, run.EvaluatedAt, run.Settings, decisions).Write(a.out, *format)
}

// preview evaluates the stored crawl with other settings and prints the result; it saves
// nothing.
func (a *app) preview(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	orgName := fs.String("org", "", "organization")
	host := fs.String("host", "", "Quay host URL, when the organization is on several")
	regex := fs.String("tag-regex", "", "RE2 regex of tags to scan too (anchored)")
	months := fs.Int("age-months", 0, "age threshold in months (1-120)")
	keep := fs.Int("keep-latest", 0, "latest images kept per repository (1-100)")
	asOf := fs.String("as-of", "", "evaluate at this instant (RFC 3339), default now")
	format := fs.String("format", "table", "table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := report.CheckFormat(*format); err != nil {
		return fmt.Errorf("preview: %v: %w", err, errUsage)
	}
	at := time.Now().UTC()
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return fmt.Errorf("preview: --as-of %q is not an RFC 3339 time such as "+
				"2026-12-04T13:00:00Z: %w", *asOf, errUsage)
		}
		at = t.UTC()
	}
	org, err := a.findOrg(ctx, *orgName, *host)
	if err != nil {
		return err
	}
	settings := org.Settings
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "tag-regex":
			settings.TagRegex = *regex
		case "age-months":
			settings.AgeThresholdMonths = *months
		case "keep-latest":
			settings.KeepLatest = *keep
		}
	})
	p, err := policy.Compile(settings)
	if err != nil {
		return fmt.Errorf("preview: %v: %w", err, errUsage)
	}
	if _, err := a.store.LatestCrawl(ctx, org.ID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s has no complete crawl yet: run `starter sync --org %s --wait`",
			org.Name, org.Name)
	} else if err != nil {
		return err
	}
	var decisions []store.Decision
	for d, err := range activities.Decide(p, at, a.store.CrawledTags(ctx, org.ID), nil) {
		if err != nil {
			return err
		}
		decisions = append(decisions, d)
	}
	return report.New(org.Name, at, settings, decisions).Write(a.out, *format)
}
