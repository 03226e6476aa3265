package quaysim

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
)

type manifestResp struct {
	Digest               string          `json:"digest"`
	IsManifestList       bool            `json:"is_manifest_list"`
	ManifestData         string          `json:"manifest_data"`
	ConfigMediaType      *string         `json:"config_media_type"`
	LayersCompressedSize json.Number     `json:"layers_compressed_size"`
	Layers               json.RawMessage `json:"layers"`
}

func getManifestResp(t *testing.T, s http.Handler, repo, digest string, want int) manifestResp {
	t.Helper()
	r := call(s, "/api/v1/repository/"+repo+"/manifest/"+digest, tokFull).mustStatus(t, want)
	var m manifestResp
	if want == 200 {
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestManifestImage(t *testing.T) {
	s := newFixtureServer(t, Options{})
	m := getManifestResp(t, s, "acme/api", dg("v130"), 200)
	if m.Digest != dg("v130") || m.IsManifestList || m.ConfigMediaType == nil ||
		*m.ConfigMediaType != ociConfigType || m.LayersCompressedSize != "31457280" {
		t.Errorf("manifest = %+v", m)
	}
	var data struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        struct{ MediaType, Digest string }
		Layers        []struct {
			Digest string
			Size   int64
		}
	}
	if err := json.Unmarshal([]byte(m.ManifestData), &data); err != nil {
		t.Fatalf("manifest_data is not a JSON string of a manifest: %v", err)
	}
	if data.SchemaVersion != 2 || data.MediaType != ociManifestType {
		t.Errorf("manifest_data = %+v", data)
	}
	var layers []map[string]any
	if err := json.Unmarshal(m.Layers, &layers); err != nil {
		t.Fatal(err)
	}
	var blobSum int64
	blobs, empty := 0, 0
	for i, l := range layers {
		if l["index"] != float64(i) || l["is_remote"] != false || l["urls"] != nil ||
			l["author"] != nil {
			t.Errorf("layer %d = %v", i, l)
		}
		cmd, _ := l["command"].([]any)
		if len(cmd) != 1 {
			t.Errorf("layer %d command = %v, want a one-element list", i, l["command"])
		}
		if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0000",
			l["created_datetime"].(string)); err != nil {
			t.Errorf("layer %d created_datetime: %v", i, err)
		}
		if l["blob_digest"] == emptyLayerDigest {
			empty++
			if l["compressed_size"] != float64(emptyLayerSize) {
				t.Errorf("empty layer size = %v, want 32", l["compressed_size"])
			}
			continue
		}
		if l["blob_digest"] != data.Layers[blobs].Digest {
			t.Errorf("layer %d blob %v is not manifest layer %d", i, l["blob_digest"], blobs)
		}
		blobSum += int64(l["compressed_size"].(float64))
		blobs++
	}
	if blobs != len(data.Layers) || empty == 0 || blobSum != 31457280 {
		t.Errorf("%d blob layers (manifest has %d), %d empty, sum %d; want the tag size "+
			"31457280 and at least one empty history entry", blobs, len(data.Layers), empty,
			blobSum)
	}
	again := getManifestResp(t, s, "acme/api", dg("v130"), 200)
	if !reflect.DeepEqual(m, again) {
		t.Errorf("manifest differs between calls")
	}
}

func TestManifestList(t *testing.T) {
	s := newFixtureServer(t, Options{})
	m := getManifestResp(t, s, "acme/api", dg("list"), 200)
	if !m.IsManifestList || m.ConfigMediaType != nil || m.LayersCompressedSize != "0" ||
		string(m.Layers) != "null" {
		t.Errorf("list = %+v (layers %s), want null config, 0 size, null layers", m, m.Layers)
	}
	var index struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			Digest   string
			Size     int
			Platform struct{ Architecture, OS string }
		}
	}
	if err := json.Unmarshal([]byte(m.ManifestData), &index); err != nil {
		t.Fatal(err)
	}
	if index.MediaType != ociIndexType || len(index.Manifests) < 2 || len(index.Manifests) > 3 {
		t.Fatalf("index = %+v, want an OCI index of 2-3 children", index)
	}
	if p := index.Manifests[0].Platform; p.Architecture != "amd64" || p.OS != "linux" ||
		index.Manifests[1].Platform.Architecture != "arm64" {
		t.Errorf("platforms = %+v", index.Manifests)
	}
	for _, c := range index.Manifests {
		child := getManifestResp(t, s, "acme/api", c.Digest, 200)
		if child.IsManifestList || len(child.ManifestData) != c.Size {
			t.Errorf("child %s: list=%v, %d bytes, index says %d", c.Digest,
				child.IsManifestList, len(child.ManifestData), c.Size)
		}
	}
}

func TestManifestNotFound(t *testing.T) {
	s := newFixtureServer(t, Options{})
	tests := []struct{ name, repo, digest string }{
		{"only dead tags", "acme/api", dg("v129")},
		{"unknown digest", "acme/api", dg("nothing")},
		{"digest of another repository", "acme/api", dg("app")},
		{"repository with only dead tags", "acme/gone", dg("gone")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(s, "/api/v1/repository/"+tt.repo+"/manifest/"+tt.digest, tokFull)
			checkAPIError(t, r, 404, "not_found", "Not Found")
		})
	}
}

func TestManifestAccessory(t *testing.T) {
	s := newFixtureServer(t, Options{})
	m := getManifestResp(t, s, "acme/api", dg("sig"), 200)
	var data struct {
		Layers []struct {
			MediaType   string
			Annotations map[string]string
		}
	}
	if err := json.Unmarshal([]byte(m.ManifestData), &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Layers) != 1 || data.Layers[0].MediaType != cosignSigType ||
		data.Layers[0].Annotations["dev.cosignproject.cosign/signature"] == "" {
		t.Errorf("signature manifest = %s", m.ManifestData)
	}
	if m.LayersCompressedSize != "712" {
		t.Errorf("layers_compressed_size = %s, want the tag size 712", m.LayersCompressedSize)
	}
}
