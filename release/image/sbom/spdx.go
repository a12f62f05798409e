package sbom

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// MediaType is the media type of an SPDX JSON document, as an OCI
// artifact type and layer media type.
const MediaType = "application/spdx+json"

// Subject is what a document describes: the release, and the image it is
// packed into when there is one.
type Subject struct {
	Release Release
	// Image is the image by digest, repository@sha256:...; empty for a
	// release directory alone.
	Image string
	// Base names the base image (a reference, or a description such as
	// "Debian packages [...]"); BaseDigest is its digest. Both may be
	// empty.
	Base, BaseDigest string
	// Tool names the creator, e.g. "relgen-v1.2.3".
	Tool string
}

type document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      creationInfo   `json:"creationInfo"`
	Packages          []pkg          `json:"packages"`
	Relationships     []relationship `json:"relationships"`
}

type creationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type pkg struct {
	Name                  string        `json:"name"`
	SPDXID                string        `json:"SPDXID"`
	VersionInfo           string        `json:"versionInfo,omitempty"`
	DownloadLocation      string        `json:"downloadLocation"`
	FilesAnalyzed         bool          `json:"filesAnalyzed"`
	LicenseConcluded      string        `json:"licenseConcluded"`
	LicenseDeclared       string        `json:"licenseDeclared"`
	CopyrightText         string        `json:"copyrightText"`
	Description           string        `json:"description,omitempty"`
	Comment               string        `json:"comment,omitempty"`
	PrimaryPackagePurpose string        `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs          []externalRef `json:"externalRefs,omitempty"`
}

type externalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

var notID = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// Document renders the SPDX 2.3 JSON document for s with the release's
// components and the base's (base, from ReadBase). created is the
// document's creation time.
func Document(s Subject, base []Component, created time.Time) ([]byte, error) {
	rel := s.Release
	d := document{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT",
		Name: rel.Name + "-" + rel.Version,
		CreationInfo: creationInfo{
			Created:  created.UTC().Format("2006-01-02T15:04:05Z"),
			Creators: []string{"Tool: " + cmp.Or(s.Tool, "relgen")},
		},
	}
	none := "NOASSERTION"
	newPkg := func(id, name, version, purpose, purl string) pkg {
		p := pkg{Name: name, SPDXID: id, VersionInfo: version, DownloadLocation: none, LicenseConcluded: none,
			LicenseDeclared: none, CopyrightText: none, PrimaryPackagePurpose: purpose}
		if purl != "" {
			p.ExternalRefs = []externalRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: purl}}
		}
		return p
	}
	top := newPkg("SPDXRef-Release", rel.Name, rel.Version, "APPLICATION", "")
	top.Comment = "the OTP release " + rel.Name + " " + rel.Version + " on ERTS " + rel.ERTSVersion
	if s.Image != "" {
		ref, err := name.NewDigest(s.Image)
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", s.Image, err)
		}
		repo := ref.Context()
		img := newPkg("SPDXRef-Image", repo.Name(), ref.DigestStr(), "CONTAINER",
			"pkg:oci/"+lastPath(repo.RepositoryStr())+"@"+escape(ref.DigestStr())+"?repository_url="+repo.Name())
		img.Comment = "the image " + s.Image
		d.Packages = append(d.Packages, img)
		d.Relationships = append(d.Relationships,
			relationship{"SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"},
			relationship{"SPDXRef-Image", "CONTAINS", "SPDXRef-Release"})
		if s.Base != "" || s.BaseDigest != "" {
			b := newPkg("SPDXRef-Base", cmp.Or(s.Base, "base"), s.BaseDigest, "CONTAINER", "")
			b.Comment = "the base image"
			d.Packages = append(d.Packages, b)
			d.Relationships = append(d.Relationships, relationship{"SPDXRef-Image", "DESCENDANT_OF", "SPDXRef-Base"})
		}
	} else {
		d.Relationships = append(d.Relationships, relationship{"SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Release"})
	}
	d.Packages = append(d.Packages, top)

	comps := slices.Clone(rel.Components)
	slices.SortStableFunc(comps, func(a, b Component) int { return cmp.Compare(a.Name, b.Name) })
	base = slices.Clone(base)
	slices.SortStableFunc(base, func(a, b Component) int { return cmp.Compare(a.Name, b.Name) })
	seen := map[string]int{}
	add := func(c Component, parent string) {
		id := "SPDXRef-" + c.Type + "-" + notID.ReplaceAllString(c.Name, "-")
		if n := seen[id]; n > 0 {
			id += fmt.Sprintf("-%d", n+1)
		}
		seen[id]++
		p := newPkg(id, c.Name, c.Version, "LIBRARY", c.PURL)
		p.Description = c.Description
		d.Packages = append(d.Packages, p)
		d.Relationships = append(d.Relationships, relationship{parent, "CONTAINS", id})
	}
	for _, c := range comps {
		add(c, "SPDXRef-Release")
	}
	parent := "SPDXRef-Image"
	if s.Base != "" || s.BaseDigest != "" {
		parent = "SPDXRef-Base"
	}
	if s.Image != "" {
		for _, c := range base {
			add(c, parent)
		}
	}
	// The namespace is unique to the content: a hash of the document
	// without it, shaped as a UUID.
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(body)
	d.DocumentNamespace = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func lastPath(repo string) string {
	return repo[strings.LastIndexByte(repo, '/')+1:]
}
