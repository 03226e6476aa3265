package quaysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Dataset is the registry content a Server serves: organizations with their repositories and
// tag rows, and the OAuth tokens that may call the API. Its JSON form is shared with other
// tools, so the field names must not change.
type Dataset struct {
	Organizations []Organization `json:"organizations"`
	Tokens        []Token        `json:"tokens"`
}

// Organization is a Quay organization (a namespace that is not a user).
type Organization struct {
	Name         string       `json:"name"`
	Repositories []Repository `json:"repositories"`
}

// Repository is an image repository. Its position in the dataset is its repository id, which
// orders the repository list. Name may contain "/" (Quay's extended repository names).
type Repository struct {
	Name     string `json:"name"`
	IsPublic bool   `json:"is_public"`
	Tags     []Tag  `json:"tags"`
}

// Tag is one row of a repository's tag history. The same name may appear in several rows, of
// which at most one is alive at any instant: a row is alive while EndTS is nil or in the future
// (a scheduled expiry), and dead (deleted, expired or moved) once EndTS has passed.
type Tag struct {
	Name           string `json:"name"`
	ManifestDigest string `json:"manifest_digest"`
	// StartTS is the push time in Unix seconds.
	StartTS int64 `json:"start_ts"`
	// EndTS is the end of the row's lifetime in Unix seconds; nil means open-ended.
	EndTS *int64 `json:"end_ts"`
	// Size is the compressed size of the image layers in bytes. It is ignored for manifest
	// lists, which Quay reports with a null size.
	Size           int64 `json:"size"`
	IsManifestList bool  `json:"is_manifest_list"`
}

// Token is an OAuth application token and the user it was granted by. Organizations lists the
// organizations the user is a member of; membership, not scope, decides which repositories the
// token can see, while Scopes cap what it may read (see the package documentation).
type Token struct {
	Token         string   `json:"token"`
	Scopes        []string `json:"scopes"`
	User          string   `json:"user"`
	Organizations []string `json:"organizations"`
}

// LoadDataset reads and validates the dataset file at path.
func LoadDataset(path string) (*Dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ds Dataset
	if err := dec.Decode(&ds); err != nil {
		return nil, fmt.Errorf("load dataset %s: %w", path, err)
	}
	if err := ds.Validate(); err != nil {
		return nil, fmt.Errorf("load dataset %s: %w", path, err)
	}
	return &ds, nil
}

// Encode writes the dataset as indented JSON to w.
func (ds *Dataset) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ds); err != nil {
		return fmt.Errorf("encode dataset: %w", err)
	}
	return nil
}

// Write stores the dataset at path with mode 0600, because it holds tokens. It writes a
// temporary file in the same directory and renames it, so readers never see half a file.
func (ds *Dataset) Write(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".quaysim-*.json")
	if err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := ds.Encode(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write dataset %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write dataset %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write dataset %s: %w", path, err)
	}
	return nil
}

// clone returns a deep copy, so a Server never shares slices with its caller.
func (ds *Dataset) clone() *Dataset {
	out := &Dataset{
		Organizations: make([]Organization, len(ds.Organizations)),
		Tokens:        make([]Token, len(ds.Tokens)),
	}
	for i, org := range ds.Organizations {
		o := Organization{Name: org.Name, Repositories: make([]Repository, len(org.Repositories))}
		for j, repo := range org.Repositories {
			r := repo
			r.Tags = make([]Tag, len(repo.Tags))
			for k, t := range repo.Tags {
				r.Tags[k] = t.clone()
			}
			o.Repositories[j] = r
		}
		out.Organizations[i] = o
	}
	for i, tok := range ds.Tokens {
		out.Tokens[i] = tok.clone()
	}
	return out
}

func (t Tag) clone() Tag {
	if t.EndTS != nil {
		end := *t.EndTS
		t.EndTS = &end
	}
	return t
}

func (t Token) clone() Token {
	t.Scopes = append([]string(nil), t.Scopes...)
	t.Organizations = append([]string(nil), t.Organizations...)
	return t
}

// aliveAt reports whether the row is alive at the Unix second now.
func (t *Tag) aliveAt(now int64) bool {
	return t.EndTS == nil || *t.EndTS > now
}
