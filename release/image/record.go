package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/relgen/relgen/internal/safefile"
	"github.com/relgen/relgen/release"
)

// Record is what `relgen build --record FILE` writes and `relgen manifests
// --record FILE` reads: the image pinned by digest, and what its layers hold.
type Record struct {
	// Reference is the image as repository@sha256:..., ready for a pod spec.
	Reference string `json:"reference"`
	// Digest is the manifest (or index) digest, sha256:...
	Digest string `json:"digest"`
	// Tags are the tags pushed along with the digest, if any.
	Tags    []string `json:"tags,omitempty"`
	Release string   `json:"release,omitempty"`
	Version string   `json:"version,omitempty"`
	// Platform and Layers describe a single-platform image.
	Platform string        `json:"platform,omitempty"`
	Layers   []LayerRecord `json:"layers,omitempty"`
	// Manifests describe the images of a multi-platform index.
	Manifests []ManifestRecord `json:"manifests,omitempty"`
}

// ManifestRecord is one platform's image within an index.
type ManifestRecord struct {
	Platform string        `json:"platform"`
	Digest   string        `json:"digest"`
	Layers   []LayerRecord `json:"layers"`
}

// LayerRecord describes one layer.
type LayerRecord struct {
	Digest string `json:"digest"`
	DiffID string `json:"diffID,omitempty"`
	Size   int64  `json:"size"`
	// Kind is erts, deps, app, release, or base for the base image's layers.
	Kind string `json:"kind"`
	// App names the own application an app layer holds.
	App string `json:"app,omitempty"`
	// Files counts the files and symlinks in the layer (not directories).
	Files int `json:"files,omitempty"`
}

func recordLayer(l v1.Layer, kind, app string, files int) (LayerRecord, error) {
	d, err := l.Digest()
	if err != nil {
		return LayerRecord{}, err
	}
	id, err := l.DiffID()
	if err != nil {
		return LayerRecord{}, err
	}
	size, err := l.Size()
	if err != nil {
		return LayerRecord{}, err
	}
	return LayerRecord{Digest: d.String(), DiffID: id.String(), Size: size, Kind: kind, App: app, Files: files}, nil
}

// Record describes the result as published to repository (registry/path,
// without tag or digest), with the tags pushed, if any.
func (r *Result) Record(repository string, tags ...string) (Record, error) {
	repo, err := name.NewRepository(repository)
	if err != nil {
		return Record{}, fmt.Errorf("repository %q: %w", repository, err)
	}
	rec := Record{
		Reference: repo.Digest(r.Digest.String()).String(),
		Digest:    r.Digest.String(),
		Tags:      tags,
		Release:   r.Release.Name,
		Version:   r.Release.Version,
	}
	if r.Index == nil && len(r.Manifests) == 1 {
		rec.Platform = r.Manifests[0].Platform.String()
		rec.Layers = r.Manifests[0].Layers
		return rec, nil
	}
	for _, m := range r.Manifests {
		rec.Manifests = append(rec.Manifests, ManifestRecord{
			Platform: m.Platform.String(), Digest: m.Digest.String(), Layers: m.Layers,
		})
	}
	return rec, nil
}

// Validate checks that Reference is repository@digest and agrees with Digest.
func (r Record) Validate() error {
	d, err := name.NewDigest(r.Reference)
	if err != nil {
		return fmt.Errorf("reference %q: want repository@sha256:...: %w", r.Reference, err)
	}
	if r.Digest != "" && d.DigestStr() != r.Digest {
		return fmt.Errorf("reference %s does not match digest %s", r.Reference, r.Digest)
	}
	return nil
}

// WriteRecordFile writes rec as indented JSON to path, atomically.
func WriteRecordFile(path string, rec Record) error {
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("writing record %s: %w", path, err)
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("writing record %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing record %s: %w", path, err)
	}
	if err := safefile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing record %s: %w", path, err)
	}
	return nil
}

// ReadRecordFile reads a record written by WriteRecordFile; its reference
// must be a valid repository@sha256:... reference.
func ReadRecordFile(path string) (Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Record{}, fmt.Errorf("reading record %s: %w", path, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return Record{}, fmt.Errorf("reading record %s: %w (a record is the JSON file relgen build --record writes)", path, recordError(data, err))
	}
	if err := rec.Validate(); err != nil {
		return Record{}, fmt.Errorf("reading record %s: %w", path, err)
	}
	return rec, nil
}

// Match refuses a record built from another release than spec's: another
// repository, release name or version. Each mismatch names the record (as
// file) and the config key it disagrees with, so the message says which of
// the two to change. A record without release or version (written by hand)
// is only checked for what it has.
func (r Record) Match(file string, spec *release.Spec) error {
	var errs []error
	d, err := name.NewDigest(r.Reference)
	if err != nil {
		return fmt.Errorf("record %s: %w", file, err)
	}
	if repo, err := release.ParseRepository(spec.Image.Repository); err == nil && d.Context().Name() != repo.Name() {
		errs = append(errs, spec.Errorf("image.repository", "is %s, but the record %s holds an image of %s; pass the record of this release's build",
			spec.Image.Repository, file, d.Context().Name()))
	}
	if r.Release != "" && r.Release != spec.Release.Name {
		errs = append(errs, spec.Errorf("release.name", "is %s, but the record %s was built from release %s; pass the record of this release's build",
			spec.Release.Name, file, r.Release))
	}
	if v := spec.Release.Version; r.Version != "" && v != "" && r.Version != v {
		errs = append(errs, spec.Errorf("release.version", "is %s, but the record %s was built from version %s; build this version or set release.version to the one built",
			v, file, r.Version))
	}
	return errors.Join(errs...)
}

// recordError words encoding/json's errors for a user: the field and the
// kind of value it wants, or the line a syntax error is on.
func recordError(data []byte, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("line %d: %w", lineAt(data, te.Offset), release.JSONValueError(err))
	case errors.As(err, &se):
		return fmt.Errorf("line %d: %s", lineAt(data, se.Offset), se.Error())
	}
	return err
}

func lineAt(data []byte, offset int64) int {
	return bytes.Count(data[:min(int(offset), len(data))], []byte("\n")) + 1
}
