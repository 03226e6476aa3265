package activities

import (
	"context"
	"fmt"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"quaykeeper/internal/quay"
	"quaykeeper/internal/store"
	"quaykeeper/internal/vuln"
)

// IngestConcurrency is how many images IngestVulnerabilities reads from Quay at once.
const IngestConcurrency = 4

// IngestResult counts what IngestVulnerabilities recorded.
type IngestResult struct {
	// Images are the distinct images (repository and digest) of the run's scan decisions.
	Images int
	// Statuses count the manifests checked, by status; a manifest list counts its platform
	// manifests.
	Statuses vuln.StatusCounts
	// Kept counts manifests whose check failed transiently and that kept an earlier report.
	Kept     int
	Findings int
	// Dropped counts the scans dropped because their digest left the inventory.
	Dropped int
}

// IngestVulnerabilities reads Quay's security report of every image of the run's scan
// decisions, IngestConcurrency at a time, and stores packages and findings per manifest; a
// manifest list is read through its platform manifests. A fault of Quay for one image (the
// scanner down, a manifest deleted since the crawl, a body that cannot be used) is recorded
// as that image's status and the next run asks again; a rejected token fails the activity.
// It heartbeats how many images of the sorted list are done, so a retry resumes there, and
// running it again for the same run stores the same rows.
func (a *Activities) IngestVulnerabilities(ctx context.Context, in RunInput) (IngestResult,
	error) {
	run, org, err := a.runAndOrg(ctx, in.RunID)
	if err != nil {
		return IngestResult{}, err
	}
	dropped, err := a.Store.DropUnmanagedFindings(ctx, org.ID)
	if err != nil {
		return IngestResult{}, err
	}
	targets, err := a.Store.ScanTargets(ctx, run.ID)
	if err != nil {
		return IngestResult{}, err
	}
	if len(targets) > 0 {
		client, err := a.quayClient(ctx, org)
		if err != nil {
			return IngestResult{}, err
		}
		start := 0
		if activity.HasHeartbeatDetails(ctx) {
			if err := activity.GetHeartbeatDetails(ctx, &start); err != nil ||
				start < 0 || start > len(targets) {
				start = 0
			}
		}
		ing := &ingester{store: a.Store, client: client, org: org.Name, run: run}
		if err := ing.all(ctx, targets, start); err != nil {
			return IngestResult{}, err
		}
	}
	counts, err := a.Store.RunIngestCounts(ctx, run.ID)
	if err != nil {
		return IngestResult{}, err
	}
	res := IngestResult{Images: len(targets), Statuses: counts.Statuses, Kept: counts.Kept,
		Findings: counts.Findings, Dropped: dropped}
	activity.GetLogger(ctx).Info("vulnerabilities ingested", "runId", run.ID,
		"images", res.Images, "manifests", res.Statuses.Total(),
		"scanned", res.Statuses.Scanned, "kept", res.Kept, "findings", res.Findings,
		"dropped", res.Dropped)
	return res, nil
}

// ingester reads and stores the security reports of one run's images.
type ingester struct {
	store  *store.Store
	client *quay.Client
	org    string
	run    store.Run
}

// all ingests targets[start:] with IngestConcurrency workers. It heartbeats the low-water
// mark, the count of leading targets that are done, and stops at the first error.
func (g *ingester) all(ctx context.Context, targets []store.ScanTarget, start int) error {
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var mu sync.Mutex
	done, mark := make([]bool, len(targets)), start
	var wg sync.WaitGroup
	for range IngestConcurrency {
		wg.Go(func() {
			for i := range jobs {
				if work.Err() != nil {
					continue
				}
				if err := g.image(work, targets[i]); err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				done[i] = true
				for mark < len(targets) && done[mark] {
					mark++
				}
				activity.RecordHeartbeat(ctx, mark)
				mu.Unlock()
			}
		})
	}
feed:
	for i := start; i < len(targets); i++ {
		select {
		case jobs <- i:
		case <-work.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Cause(work)
}

// image reads one image's reports, through its platform manifests for a list, and stores
// them.
func (g *ingester) image(ctx context.Context, t store.ScanTarget) error {
	img := store.ImageScan{RepositoryID: t.RepositoryID, Digest: t.Digest, RunID: g.run.ID,
		At: g.run.EvaluatedAt}
	manifests := []quay.ManifestChild{{Digest: t.Digest}}
	if t.IsManifestList {
		m, err := g.client.Manifest(ctx, g.org, t.Repository, t.Digest)
		if err != nil {
			scan, err := g.fault(ctx, t, err)
			if err != nil {
				return err
			}
			img.Manifests = []store.ManifestResult{{Manifest: t.Digest, Scan: scan}}
			return g.store.SaveImageScan(ctx, img)
		}
		manifests = platformManifests(m.Children)
		if len(manifests) == 0 {
			img.Manifests = []store.ManifestResult{{Manifest: t.Digest, Scan: vuln.Scan{
				Status: vuln.StatusUnsupported,
				Reason: "the manifest list names no platform manifest to scan"}}}
			return g.store.SaveImageScan(ctx, img)
		}
	}
	for _, m := range manifests {
		var scan vuln.Scan
		report, err := g.client.Security(ctx, g.org, t.Repository, m.Digest)
		if err == nil {
			scan = vuln.FromReport(report)
		} else if scan, err = g.fault(ctx, t, err); err != nil {
			return err
		}
		img.Manifests = append(img.Manifests, store.ManifestResult{Manifest: m.Digest,
			Platform: platform(m), Scan: scan})
	}
	return g.store.SaveImageScan(ctx, img)
}

// fault turns a failed request for one image into the scan to record, or into the error
// that ends the activity: a cancellation, or a failure that is not the image's (a rejected
// token first of all).
func (g *ingester) fault(ctx context.Context, t store.ScanTarget, err error) (vuln.Scan,
	error) {
	if ctx.Err() != nil {
		return vuln.Scan{}, ctx.Err()
	}
	if scan, ok := vuln.FromError(err); ok {
		return scan, nil
	}
	return vuln.Scan{}, quayFailure(fmt.Errorf("read the security report of %s/%s@%s: %w",
		g.org, t.Repository, t.Digest, err))
}

// platformManifests keeps the entries of a manifest list that are images for a platform.
// Build attestations (platform unknown/unknown) and entries without a platform are not
// images and Quay's scanner does not support them.
func platformManifests(children []quay.ManifestChild) []quay.ManifestChild {
	var out []quay.ManifestChild
	for _, c := range children {
		if c.OS != "" && c.OS != "unknown" && c.Architecture != "unknown" {
			out = append(out, c)
		}
	}
	return out
}

// platform writes os/architecture[/variant].
func platform(c quay.ManifestChild) string {
	if c.OS == "" {
		return ""
	}
	p := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		p += "/" + c.Variant
	}
	return p
}

// ComplianceResult counts a run's compliance verdicts.
type ComplianceResult struct {
	vuln.ComplianceCounts
}

// EvaluateCompliance judges every image of the run's scan decisions against the
// organization's compliance policies at the run's instant and stores the verdicts with the
// settings, replacing an earlier evaluation of the run.
func (a *Activities) EvaluateCompliance(ctx context.Context, in RunInput) (ComplianceResult,
	error) {
	run, org, err := a.runAndOrg(ctx, in.RunID)
	if err != nil {
		return ComplianceResult{}, err
	}
	settings, err := a.Store.ComplianceSettings(ctx, org.ID)
	if err != nil {
		return ComplianceResult{}, err
	}
	if err := settings.Validate(); err != nil {
		return ComplianceResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("compliance settings of %s: %v", org.Name, err),
			ErrTypeInvalidSettings, nil)
	}
	images, err := a.Store.ComplianceImages(ctx, run.ID)
	if err != nil {
		return ComplianceResult{}, err
	}
	verdicts := make([]vuln.Verdict, len(images))
	for i, img := range images {
		verdicts[i] = vuln.Evaluate(settings, run.EvaluatedAt, img)
	}
	counts, err := a.Store.SaveCompliance(ctx, run.ID, run.EvaluatedAt, settings, verdicts)
	if err != nil {
		return ComplianceResult{}, err
	}
	activity.GetLogger(ctx).Info("compliance evaluated", "runId", run.ID,
		"images", counts.Images, "failed", counts.Failed)
	return ComplianceResult{counts}, nil
}
