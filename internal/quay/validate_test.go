package quay

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestHostileTagRowsAreMalformed checks that rows breaking Quay's own rules fail the call
// instead of reaching the inventory, terminals or reports.
func TestHostileTagRowsAreMalformed(t *testing.T) {
	tests := map[string]struct{ row, want string }{
		"escape in name": {`{"name": "v1\u001b[31m", "manifest_digest": "sha256:ab",
			"start_ts": 1}`, "control characters"},
		"newline in name": {`{"name": "a\nb", "manifest_digest": "sha256:ab", "start_ts": 1}`,
			"control characters"},
		"bad digest": {`{"name": "v1", "manifest_digest": "not-a-digest", "start_ts": 1}`,
			"not a digest"},
		"far future": {`{"name": "v1", "manifest_digest": "sha256:ab",
			"start_ts": 99999999999999}`, "years 1970-9999"},
		"negative end": {`{"name": "v1", "manifest_digest": "sha256:ab", "start_ts": 1,
			"end_ts": -5}`, "years 1970-9999"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			body := fmt.Sprintf(`{"tags": [%s], "page": 1, "has_additional": false}`, tt.row)
			hs := newHarness(t, jsonOK(body), oneAttempt)
			_, err := hs.c.Tags(context.Background(), "acme", "app", 1)
			if KindOf(err) != KindMalformed || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Tags error = %v, want malformed with %q", err, tt.want)
			}
		})
	}
}

func TestHostileRepositoryNameIsMalformed(t *testing.T) {
	hs := newHarness(t, jsonOK(`{"repositories": [{"namespace": "acme",
		"name": "app\u001b]8;;x", "is_public": false}]}`), oneAttempt)
	_, err := hs.c.Repositories(context.Background(), "acme", "")
	if KindOf(err) != KindMalformed {
		t.Fatalf("Repositories error = %v, want malformed", err)
	}
}
