package quay

import (
	"context"
	"encoding/json"
	"fmt"
)

// Manifest is what the client needs of a manifest's details.
type Manifest struct {
	Digest         string
	IsManifestList bool
	// Children are the manifests a list or index names, nil for an image manifest.
	Children []ManifestChild
	// ConfigMediaType is "" for manifest lists and schema 1 manifests.
	ConfigMediaType string
	// LayersCompressedSize is 0 for manifest lists.
	LayersCompressedSize int64
}

// ManifestChild is one entry of a manifest list; the platform fields are "" when the entry
// has no platform (for example an attestation).
type ManifestChild struct {
	Digest, OS, Architecture, Variant string
}

// Manifest fetches a manifest's details: GET /api/v1/repository/{ns}/{repo}/manifest/{digest}.
// A manifest reachable only through deleted tags is KindNotFound. For a manifest list the
// children come from manifest_data, the raw manifest that Quay sends as a JSON string.
func (c *Client) Manifest(
	ctx context.Context, namespace, repo, digest string,
) (Manifest, error) {
	p, perr := manifestPath(namespace, repo, digest)
	if perr != nil {
		return Manifest{}, perr
	}
	var body struct {
		Digest               *string `json:"digest"`
		IsManifestList       *bool   `json:"is_manifest_list"`
		ManifestData         *string `json:"manifest_data"`
		ConfigMediaType      *string `json:"config_media_type"`
		LayersCompressedSize *int64  `json:"layers_compressed_size"`
	}
	var children []ManifestChild
	cl := call{
		ep:      epRepository,
		subject: fmt.Sprintf("manifest %s of %q", digest, namespace+"/"+repo),
		path:    p,
	}
	err := c.get(ctx, cl, &body, func() *Error {
		switch {
		case body.Digest == nil || *body.Digest != digest:
			return malformed(`the body's "digest" is not %s`, digest)
		case body.IsManifestList == nil:
			return malformed(`the body has no "is_manifest_list"`)
		case !*body.IsManifestList:
			return nil
		case body.ManifestData == nil:
			return malformed(`the manifest list has no "manifest_data"`)
		}
		var err *Error
		children, err = listChildren(*body.ManifestData)
		return err
	})
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Digest: digest, IsManifestList: *body.IsManifestList, Children: children}
	if body.ConfigMediaType != nil {
		m.ConfigMediaType = *body.ConfigMediaType
	}
	if body.LayersCompressedSize != nil {
		m.LayersCompressedSize = *body.LayersCompressedSize
	}
	return m, nil
}

// listChildren parses the manifests of a Docker manifest list or OCI index.
func listChildren(data string) ([]ManifestChild, *Error) {
	var index struct {
		Manifests *[]struct {
			Digest   string `json:"digest"`
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
				Variant      string `json:"variant"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal([]byte(data), &index); err != nil {
		return nil, malformed("manifest_data of the list: %s", describeJSONError(err, []byte(data)))
	}
	if index.Manifests == nil {
		return nil, malformed(`manifest_data of the list has no "manifests" array`)
	}
	children := make([]ManifestChild, 0, len(*index.Manifests))
	for i, m := range *index.Manifests {
		if m.Digest == "" {
			return nil, malformed(`entry %d of manifest_data's "manifests" has no digest`, i)
		}
		child := ManifestChild{Digest: m.Digest}
		if m.Platform != nil {
			child.OS, child.Architecture, child.Variant =
				m.Platform.OS, m.Platform.Architecture, m.Platform.Variant
		}
		children = append(children, child)
	}
	return children, nil
}
