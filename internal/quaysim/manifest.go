package quaysim

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// Media types and the empty-layer blob of image/docker/schema2 (EMPTY_LAYER_BLOB_DIGEST).
const (
	ociManifestType  = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType     = "application/vnd.oci.image.index.v1+json"
	ociConfigType    = "application/vnd.oci.image.config.v1+json"
	ociLayerType     = "application/vnd.oci.image.layer.v1.tar+gzip"
	cosignSigType    = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseType         = "application/vnd.dsse.envelope.v1+json"
	emptyLayerDigest = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
	emptyLayerSize   = 32
	buildkitComment  = "buildkit.dockerfile.v0"
)

type manifestView struct {
	Digest               string  `json:"digest"`
	IsManifestList       bool    `json:"is_manifest_list"`
	ManifestData         string  `json:"manifest_data"`
	ConfigMediaType      *string `json:"config_media_type"`
	LayersCompressedSize int64   `json:"layers_compressed_size"`
	// Layers is null for manifest lists.
	Layers []layerView `json:"layers"`
}

// layerView is endpoints/api/manifest.py :: _layer_dict.
type layerView struct {
	Index           int      `json:"index"`
	CompressedSize  int64    `json:"compressed_size"`
	IsRemote        bool     `json:"is_remote"`
	URLs            []string `json:"urls"`
	Command         []string `json:"command"`
	Comment         *string  `json:"comment"`
	Author          *string  `json:"author"`
	BlobDigest      string   `json:"blob_digest"`
	CreatedDatetime *string  `json:"created_datetime"`
}

// getManifest is endpoints/api/manifest.py :: RepositoryManifest.get. Only manifests reachable
// from an alive tag (directly or as a child of an alive list) are found.
func (s *Server) getManifest(r *http.Request, id identity, m routeMatch, now int64) response {
	repo := s.st.repo(m.ns, m.repo)
	if !id.canRead(repo) {
		return unauthorized(r, id)
	}
	ref, found := repo.lookupManifest(m.dgst, now, false)
	if !found {
		return notFound(r)
	}
	view := manifestView{Digest: ref.digest, IsManifestList: ref.isList}
	switch {
	case ref.isList:
		view.ManifestData = indexJSON(ref.digest)
	case ref.accessory != "":
		body, layer := accessoryManifestJSON(ref)
		view.ManifestData, view.ConfigMediaType = body, sp(ociConfigType)
		view.LayersCompressedSize = layer.Size
		// An artifact has no build history, so its one layer has no history fields.
		view.Layers = []layerView{{CompressedSize: layer.Size, BlobDigest: layer.Digest}}
	default:
		img := buildImage(ref.digest, ref.size, ref.pushed)
		view.ManifestData, view.ConfigMediaType = imageManifestJSON(img), sp(ociConfigType)
		view.Layers = make([]layerView, len(img.history))
		for i, h := range img.history {
			lv := layerView{Index: i, Command: []string{h.command}, BlobDigest: h.blob,
				CompressedSize: h.size, CreatedDatetime: sp(formatDate(h.created))}
			if h.comment != "" {
				lv.Comment = sp(h.comment)
			}
			if h.blob == "" {
				lv.BlobDigest, lv.CompressedSize = emptyLayerDigest, emptyLayerSize
			} else {
				view.LayersCompressedSize += h.size
			}
			view.Layers[i] = lv
		}
	}
	return ok(view)
}

// image is a derived image: its base, optional language ecosystem and config history.
type image struct {
	base    *osBase
	eco     *ecosystem
	config  ociDescriptor
	history []historyEntry
}

// historyEntry is one step of the image config history; blob is "" for an empty step.
type historyEntry struct {
	command, comment string
	blob             string
	size             int64
	created          int64
}

// buildImage derives the image behind digest. size is split over the real layers, so their
// sum is the tag's size; pushed (Unix seconds) places the build shortly before the push.
func buildImage(digest string, size, pushed int64) image {
	img := image{base: &bases[pick(len(bases), digest, "base")]}
	if e := pick(3, digest, "ecosystem"); e > 0 {
		img.eco = &ecosystems[e-1]
	}
	img.config = ociDescriptor{
		MediaType: ociConfigType, Digest: digestOf(digest, "config"),
		Size: 1200 + int64(pick(6000, digest, "config-size")),
	}
	baseSize := min(img.base.layerSize, size*6/10)
	built := pushed - 300 - int64(pick(5400, digest, "built"))
	baseBuilt := built - 86400*int64(20+pick(100, digest, "base-built"))
	shell := "/bin/bash"
	if img.base.name == "alpine3" {
		shell = "/bin/sh"
	}
	addFile := hashOf("base-file", img.base.name)
	img.history = []historyEntry{
		{command: "/bin/sh -c #(nop) ADD file:" + hex.EncodeToString(addFile[:]) + " in / ",
			blob: baseLayerDigest(img.base), size: baseSize, created: baseBuilt},
		{command: `/bin/sh -c #(nop)  CMD ["` + shell + `"]`, created: baseBuilt + 1},
		{command: "LABEL org.opencontainers.image.source=https://git.example.com/app",
			comment: buildkitComment, created: built},
		{command: "ENV " + appEnv(img.eco), comment: buildkitComment, created: built},
	}
	steps := appSteps(img)
	n := 1 + pick(len(steps), digest, "layers")
	rest := size - baseSize
	for i, step := range steps[:n] {
		part := rest / int64(n-i)
		if i < n-1 {
			part = part/2 + int64(float64(part)*unit(digest, "split", step))
		}
		rest -= part
		img.history = append(img.history, historyEntry{
			command: step, comment: buildkitComment, created: built + int64(i) + 1,
			blob: digestOf(digest, "layer", step), size: part,
		})
	}
	img.history = append(img.history, historyEntry{
		command: `CMD ["/app/run"]`, comment: buildkitComment, created: built + int64(n) + 1,
	})
	return img
}

func baseLayerDigest(b *osBase) string { return digestOf("base-layer", b.name) }

func appEnv(eco *ecosystem) string {
	switch {
	case eco == nil:
		return "APP_HOME=/app"
	case eco.name == "python":
		return "PYTHONUNBUFFERED=1"
	}
	return "CGO_ENABLED=0"
}

// appSteps are the layer-producing build steps an image may have, in order.
func appSteps(img image) []string {
	install := "RUN /bin/sh -c dnf -y update && dnf clean all # buildkit"
	switch {
	case img.eco != nil && img.eco.name == "python":
		install = "RUN /bin/sh -c pip install --no-cache-dir -r requirements.txt # buildkit"
	case img.eco != nil:
		install = "COPY /out/app /usr/local/bin/app # buildkit"
	case img.base.name == "alpine3":
		install = "RUN /bin/sh -c apk upgrade --no-cache # buildkit"
	case img.base.name == "debian12":
		install = "RUN /bin/sh -c apt-get update && apt-get -y upgrade # buildkit"
	}
	return []string{install, "COPY . /app # buildkit",
		"RUN /bin/sh -c chmod -R g+rwX /app # buildkit"}
}

// layerBlobs are the real (non-empty) layers in manifest order.
func (img image) layerBlobs() []ociDescriptor {
	var out []ociDescriptor
	for _, h := range img.history {
		if h.blob != "" {
			out = append(out, ociDescriptor{MediaType: ociLayerType, Digest: h.blob, Size: h.size})
		}
	}
	return out
}

// appLayer is the first layer added on top of the base, where language packages land.
func (img image) appLayer() string {
	for _, h := range img.history[1:] {
		if h.blob != "" {
			return h.blob
		}
	}
	return baseLayerDigest(img.base)
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *ociPlatform      `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ociPlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

type ociManifest struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Config        *ociDescriptor  `json:"config,omitempty"`
	Layers        []ociDescriptor `json:"layers,omitempty"`
	Manifests     []ociDescriptor `json:"manifests,omitempty"`
}

// mustJSON marshals the simulator's own manifest types, which cannot fail.
func mustJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("quaysim: marshal %T: %v", v, err))
	}
	return string(raw)
}

// imageManifestJSON is the OCI image manifest of a derived image. It does not depend on the
// push time, so a child's size in its index is stable.
func imageManifestJSON(img image) string {
	cfg := img.config
	return mustJSON(ociManifest{
		SchemaVersion: 2, MediaType: ociManifestType, Config: &cfg, Layers: img.layerBlobs(),
	})
}

// indexJSON is the OCI index of a derived manifest list.
func indexJSON(list string) string {
	m := ociManifest{SchemaVersion: 2, MediaType: ociIndexType}
	for _, c := range childManifests(list) {
		body := imageManifestJSON(buildImage(c.digest, c.size, 0))
		m.Manifests = append(m.Manifests, ociDescriptor{
			MediaType: ociManifestType, Digest: c.digest, Size: int64(len(body)),
			Platform: &ociPlatform{Architecture: c.platform.arch, OS: "linux",
				Variant: c.platform.variant},
		})
	}
	return mustJSON(m)
}

// accessoryManifestJSON is a cosign signature or attestation: an artifact whose single layer
// is not a container layer, which is why the security endpoint calls it unsupported.
func accessoryManifestJSON(ref manifestRef) (string, ociDescriptor) {
	layer := ociDescriptor{MediaType: cosignSigType, Digest: digestOf(ref.digest, "payload"),
		Size: ref.size}
	if ref.accessory == ".sig" {
		sig := hashOf(ref.digest, "signature")
		layer.Annotations = map[string]string{
			"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig[:]),
		}
	} else {
		layer.MediaType = dsseType
	}
	cfg := ociDescriptor{MediaType: ociConfigType, Digest: digestOf(ref.digest, "config"),
		Size: 233}
	body := mustJSON(ociManifest{SchemaVersion: 2, MediaType: ociManifestType, Config: &cfg,
		Layers: []ociDescriptor{layer}})
	return body, layer
}
