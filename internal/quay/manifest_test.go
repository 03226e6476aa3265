package quay

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// manifestBody is a manifest details answer whose manifest_data, a JSON string, holds data.
func manifestBody(digest string, list bool, data string, configType string, size int64) string {
	quoted, _ := json.Marshal(data)
	ct := "null"
	if configType != "" {
		ct = fmt.Sprintf("%q", configType)
	}
	layers := `[{"index": 0, "compressed_size": 31457248, "is_remote": false, "urls": null, ` +
		`"command": ["/bin/sh -c #(nop) ADD file:4b1 in / "], "comment": null, ` +
		`"author": null, "blob_digest": "sha256:1e3f", ` +
		`"created_datetime": "Tue, 14 Nov 2023 22:13:20 -0000"}]`
	if list {
		layers = "null"
	}
	return fmt.Sprintf(`{"digest": %q, "is_manifest_list": %v, "manifest_data": %s, `+
		`"config_media_type": %s, "layers_compressed_size": %d, "layers": %s}`,
		digest, list, quoted, ct, size, layers)
}

const dockerList = `{"schemaVersion": 2,
 "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
 "manifests": [
  {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
   "digest": "sha256:aa01", "platform": {"architecture": "amd64", "os": "linux"}},
  {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
   "digest": "sha256:bb02",
   "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}]}`

const ociIndex = `{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
 "manifests": [
  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1000,
   "digest": "sha256:cc03", "platform": {"architecture": "arm64", "os": "linux"}},
  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 566,
   "digest": "sha256:dd04",
   "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}`

func TestManifest(t *testing.T) {
	image := `{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",` +
		` "config": {}, "layers": []}`
	tests := []struct {
		name   string
		digest string
		body   string
		want   Manifest
	}{
		{name: "image", digest: "sha256:5b0be1",
			body: manifestBody("sha256:5b0be1", false, image,
				"application/vnd.oci.image.config.v1+json", 31457280),
			want: Manifest{Digest: "sha256:5b0be1",
				ConfigMediaType:      "application/vnd.oci.image.config.v1+json",
				LayersCompressedSize: 31457280}},
		{name: "docker manifest list", digest: "sha256:9f1c02",
			body: manifestBody("sha256:9f1c02", true, dockerList, "", 0),
			want: Manifest{Digest: "sha256:9f1c02", IsManifestList: true,
				Children: []ManifestChild{
					{Digest: "sha256:aa01", OS: "linux", Architecture: "amd64"},
					{Digest: "sha256:bb02", OS: "linux", Architecture: "arm", Variant: "v7"}}}},
		{name: "oci index with attestation", digest: "sha256:9f1c03",
			body: manifestBody("sha256:9f1c03", true, ociIndex, "", 0),
			want: Manifest{Digest: "sha256:9f1c03", IsManifestList: true,
				Children: []ManifestChild{
					{Digest: "sha256:cc03", OS: "linux", Architecture: "arm64"},
					{Digest: "sha256:dd04"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, expect(t, "/api/v1/repository/acme/team/app/manifest/"+
				tt.digest, "", tt.body))
			m, err := hs.c.Manifest(context.Background(), "acme", "team/app", tt.digest)
			if err != nil {
				t.Fatalf("Manifest: %v", err)
			}
			if !reflect.DeepEqual(m, tt.want) {
				t.Errorf("manifest %+v, want %+v", m, tt.want)
			}
		})
	}
}

func TestManifestShape(t *testing.T) {
	const digest = "sha256:9f1c02"
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "other digest", body: manifestBody("sha256:0000", false, "{}", "", 1),
			want: `the body's "digest" is not sha256:9f1c02`},
		{name: "no is_manifest_list", body: `{"digest": "sha256:9f1c02"}`,
			want: `the body has no "is_manifest_list"`},
		{name: "list without data",
			body: `{"digest": "sha256:9f1c02", "is_manifest_list": true}`,
			want: `the manifest list has no "manifest_data"`},
		{name: "data not JSON", body: manifestBody(digest, true, "{not json", "", 0),
			want: "manifest_data of the list: the body is not valid JSON"},
		{name: "data without manifests", body: manifestBody(digest, true, `{"layers": []}`, "",
			0), want: `manifest_data of the list has no "manifests" array`},
		{name: "child without digest",
			body: manifestBody(digest, true, `{"manifests": [{"size": 1}]}`, "", 0),
			want: `entry 0 of manifest_data's "manifests" has no digest`},
		{name: "data an object", body: `{"digest": "sha256:9f1c02", "is_manifest_list": true,` +
			` "manifest_data": {"manifests": []}}`,
			want: `field "manifest_data" is a JSON object, not a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, jsonOK(tt.body))
			_, err := hs.c.Manifest(context.Background(), "acme", "app", digest)
			wantKind(t, err, KindMalformed)
			wantText(t, err, tt.want)
		})
	}
}

func TestManifestNotFound(t *testing.T) {
	hs := newHarness(t, reply(404, "application/json", `{"error_message": "Not Found"}`))
	_, err := hs.c.Manifest(context.Background(), "acme", "app", "sha256:9f1c02")
	wantKind(t, err, KindNotFound)
	wantText(t, err, `manifest sha256:9f1c02 of "acme/app" was not found`)
}
