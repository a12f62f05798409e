package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/relgen/relgen/internal/testutil"
)

const schema = "testdata/spdx-schema-2.3.json"

// release is a release directory as mix release writes it, with one Hex
// dependency (jason), a path dependency (peerage), OTP's and Elixir's
// applications.
func release() fstest.MapFS {
	app := func(name, vsn, desc string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("{application," + name + ",\n [{applications,[kernel]},\n  {description,\"" + desc + "\"},\n  {vsn,\"" + vsn + "\"}]}.\n")}
	}
	return fstest.MapFS{
		"releases/start_erl.data": {Data: []byte("13.1.5 0.1.0\n")},
		"releases/0.1.0/myapp.rel": {Data: []byte(`%% coding: utf-8
{release,{"myapp","0.1.0"},
         {erts,"13.1.5"},
         [{kernel,"8.5.3",permanent},
          {stdlib,"4.2",permanent},
          {crypto,"5.1.2",permanent},
          {elixir,"1.14.0",permanent},
          {jason,"1.4.0",permanent},
          {peerage,"1.0.3",permanent},
          {myapp,"0.1.0",permanent},
          {iex,"1.14.0",none},
          {logger,"1.14.0",permanent}]}.
`)},
		"lib/kernel-8.5.3/ebin/kernel.app":   app("kernel", "8.5.3", "ERTS  CXC 138 10"),
		"lib/jason-1.4.0/ebin/jason.app":     app("jason", "1.4.0", "A blazing fast JSON parser and generator in pure Elixir.\\n"),
		"lib/myapp-0.1.0/ebin/myapp.app":     app("myapp", "0.1.0", "my \\\"app\\\""),
		"lib/peerage-1.0.3/ebin/peerage.app": app("peerage", "1.0.3", "peerage"),
	}
}

const mixLock = `%{
  "jason": {:hex, :jason, "1.4.0", "e855647bc964a44e2f67df589ccf49105ae039d4179db7f6271dfd3843dc27e6", [:mix], [{:decimal, "~> 1.0 or ~> 2.0", [hex: :decimal, repo: "hexpm", optional: true]}], "hexpm", "79a3791085b2a0f743ca04cec0f7be26443738779d09302e01318f97bdb82121"},
  "peerage": {:git, "https://example.com/peerage.git", "0123456789abcdef", []},
}
`

func TestReadRelease(t *testing.T) {
	r, err := ReadRelease(release(), []byte(mixLock))
	if err != nil {
		t.Fatal(err)
	}
	want := Release{Name: "myapp", Version: "0.1.0", ERTSVersion: "13.1.5", Components: []Component{
		{Name: "erts", Version: "13.1.5", Type: TypeERTS, Description: "Erlang runtime system"},
		{Name: "kernel", Version: "8.5.3", Type: TypeOTP, Description: "ERTS  CXC 138 10"},
		{Name: "stdlib", Version: "4.2", Type: TypeOTP},
		{Name: "crypto", Version: "5.1.2", Type: TypeOTP},
		{Name: "elixir", Version: "1.14.0", Type: TypeElixir},
		{Name: "jason", Version: "1.4.0", Type: TypeHex, PURL: "pkg:hex/jason@1.4.0", Description: `A blazing fast JSON parser and generator in pure Elixir.\n`},
		{Name: "peerage", Version: "1.0.3", Type: TypeApplication, Description: "peerage"},
		{Name: "myapp", Version: "0.1.0", Type: TypeApplication, Description: `my "app"`},
		{Name: "iex", Version: "1.14.0", Type: TypeElixir},
		{Name: "logger", Version: "1.14.0", Type: TypeElixir},
	}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("ReadRelease (-want +got):\n%s", diff)
	}

	t.Run("stale lock", func(t *testing.T) {
		_, err := ReadRelease(release(), []byte(strings.Replace(mixLock, `:jason, "1.4.0"`, `:jason, "1.4.1"`, 1)))
		if err == nil || !strings.Contains(err.Error(), "mix.lock has jason 1.4.1 but the release has 1.4.0") {
			t.Errorf("ReadRelease with a newer lock = %v, want an error naming both versions", err)
		}
	})
	t.Run("not a release", func(t *testing.T) {
		fsys := release()
		delete(fsys, "releases/0.1.0/myapp.rel")
		if _, err := ReadRelease(fsys, nil); err == nil || !strings.Contains(err.Error(), "want one .rel file") {
			t.Errorf("ReadRelease without a .rel = %v", err)
		}
	})
}

const status = `Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: removed
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
`

func TestDebianPackages(t *testing.T) {
	got := DebianPackages(status, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")
	want := []Component{
		{Name: "libc6", Version: "2.36-9+deb12u4", Type: TypeDeb, PURL: "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12", Description: "GNU C Library: Shared libraries"},
		{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Type: TypeDeb, PURL: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12", Description: "compression library - runtime"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DebianPackages (-want +got):\n%s", diff)
	}
}

// spdxDoc is the part of an SPDX document the tests read back.
type spdxDoc struct {
	SPDXVersion string `json:"spdxVersion"`
	Namespace   string `json:"documentNamespace"`
	Packages    []struct {
		ID      string              `json:"SPDXID"`
		Name    string              `json:"name"`
		Version string              `json:"versionInfo"`
		Refs    []map[string]string `json:"externalRefs"`
	} `json:"packages"`
	Relationships []struct {
		From string `json:"spdxElementId"`
		Type string `json:"relationshipType"`
		To   string `json:"relatedSpdxElement"`
	} `json:"relationships"`
}

func TestDocument(t *testing.T) {
	r, err := ReadRelease(release(), []byte(mixLock))
	if err != nil {
		t.Fatal(err)
	}
	base := DebianPackages(status, "ID=debian\nVERSION_ID=12\n")
	created := time.Unix(1700000000, 0)
	s := Subject{Release: r, Image: "registry.example.com/acme/myapp@sha256:" + strings.Repeat("ab", 32), Base: "Debian packages [libc6 zlib1g]", BaseDigest: "sha256:" + strings.Repeat("cd", 32)}
	doc, err := Document(s, base, created)
	if err != nil {
		t.Fatal(err)
	}
	testutil.ValidateJSON(t, schema, doc)
	again, err := Document(s, base, created)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, again) {
		t.Error("two documents of the same input differ")
	}

	var d spdxDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	purls := map[string]string{}
	for _, p := range d.Packages {
		byID[p.ID] = p.Name + "@" + p.Version
		for _, ref := range p.Refs {
			if ref["referenceType"] == "purl" {
				purls[p.Name] = ref["referenceLocator"]
			}
		}
	}
	contains := map[string][]string{}
	for _, rel := range d.Relationships {
		contains[rel.From+" "+rel.Type] = append(contains[rel.From+" "+rel.Type], byID[rel.To])
	}
	for key, want := range map[string][]string{
		"SPDXRef-DOCUMENT DESCRIBES":  {"registry.example.com/acme/myapp@sha256:" + strings.Repeat("ab", 32)},
		"SPDXRef-Image CONTAINS":      {"myapp@0.1.0"},
		"SPDXRef-Image DESCENDANT_OF": {"Debian packages [libc6 zlib1g]@sha256:" + strings.Repeat("cd", 32)},
		"SPDXRef-Release CONTAINS":    {"crypto@5.1.2", "elixir@1.14.0", "erts@13.1.5", "iex@1.14.0", "jason@1.4.0", "kernel@8.5.3", "logger@1.14.0", "myapp@0.1.0", "peerage@1.0.3", "stdlib@4.2"},
		"SPDXRef-Base CONTAINS":       {"libc6@2.36-9+deb12u4", "zlib1g@1:1.2.13.dfsg-1"},
	} {
		if diff := cmp.Diff(want, contains[key]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", key, diff)
		}
	}
	for name, want := range map[string]string{
		"jason":                           "pkg:hex/jason@1.4.0",
		"zlib1g":                          "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
		"registry.example.com/acme/myapp": "pkg:oci/myapp@sha256:" + strings.Repeat("ab", 32) + "?repository_url=registry.example.com/acme/myapp",
	} {
		if purls[name] != want {
			t.Errorf("purl of %s = %q, want %q", name, purls[name], want)
		}
	}

	t.Run("release alone", func(t *testing.T) {
		doc, err := Document(Subject{Release: r}, nil, created)
		if err != nil {
			t.Fatal(err)
		}
		testutil.ValidateJSON(t, schema, doc)
		var d spdxDoc
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		if d.Relationships[0].Type != "DESCRIBES" || d.Relationships[0].To != "SPDXRef-Release" {
			t.Errorf("first relationship %+v, want the document to describe the release", d.Relationships[0])
		}
	})
}

// TestPush attaches a document to an image in a registry and finds it
// again through the referrers API.
func TestPush(t *testing.T) {
	s := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	t.Cleanup(s.Close)
	repo, err := name.NewRepository(strings.TrimPrefix(s.URL, "http://") + "/acme/myapp")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref := repo.Digest(d.String())
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	got, err := Push(context.Background(), ref, *desc, doc)
	if err != nil {
		t.Fatal(err)
	}
	// ggcr's registry lists the artifact (it reports the config's media
	// type as its artifactType); the manifest carries the SBOM type.
	desc2, am, body := testutil.Referrer(t, ref)
	if desc2.Digest != got {
		t.Errorf("the referrer of %s is %s, want the pushed SBOM %s", ref, desc2.Digest, got)
	}
	if am.ArtifactType != MediaType || am.Subject == nil || am.Subject.Digest != d {
		t.Errorf("SBOM manifest artifactType %q, subject %+v; want %s and the image %s", am.ArtifactType, am.Subject, MediaType, d)
	}
	if !bytes.Equal(body, doc) {
		t.Errorf("SBOM pulled back = %s, want %s", body, doc)
	}

}
