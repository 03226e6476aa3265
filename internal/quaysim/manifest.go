package quaysim

import "net/http"

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
