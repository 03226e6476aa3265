package quaysim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkTagPage serves a 100-row page from the middle of a 2,000-row history.
func BenchmarkTagPage(b *testing.B) {
	ds := Generate(GenerateOptions{Repositories: 2, TagsPerRepo: 2000, Seed: 1,
		Now: fixtureNow})
	s := New(ds, Options{Now: func() time.Time { return fixtureNow }})
	path := fmt.Sprintf("/api/v1/repository/acme/%s/tag/?limit=100&page=10",
		ds.Organizations[0].Repositories[0].Name)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+ds.Tokens[0].Token)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
