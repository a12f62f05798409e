package release

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrBadReference is the cause of every image reference or repository
// relgen refuses; the message says what to write instead.
var ErrBadReference = errors.New("not a valid image reference")

// ParseRepository parses image.repository: registry/path, lower case,
// without scheme, tag or digest (relgen tags with the release version and
// pins the digest it built). Every command reads the repository through
// it, so manifests, check, diff and build refuse the same values.
func ParseRepository(s string) (name.Repository, error) {
	if err := commonProblem(s); err != nil {
		return name.Repository{}, err
	}
	last := s[strings.LastIndexByte(s, '/')+1:]
	switch {
	case strings.Contains(s, "@"):
		return name.Repository{}, fmt.Errorf("%q: %w: a repository has no digest; write %s (relgen pins the digest it built)", s, ErrBadReference, strings.SplitN(s, "@", 2)[0])
	case strings.Contains(last, ":"):
		repo := s[:len(s)-len(last)] + strings.SplitN(last, ":", 2)[0]
		return name.Repository{}, fmt.Errorf("%q: %w: a repository has no tag; write %s (relgen tags the image with the release version)", s, ErrBadReference, repo)
	}
	r, err := name.NewRepository(s)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%q: %w: %w", s, ErrBadReference, err)
	}
	return r, nil
}

// ParseReference parses an image reference as a pod spec takes it:
// REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (64 hex digits).
func ParseReference(s string) (name.Reference, error) {
	if err := commonProblem(s); err != nil {
		return nil, err
	}
	r, err := name.ParseReference(s)
	if err == nil {
		return r, nil
	}
	if repo, digest, ok := strings.Cut(s, "@"); ok {
		if _, rerr := name.NewRepository(repo); rerr == nil {
			return nil, fmt.Errorf("%q: %w: the digest %q is not sha256: followed by 64 hex digits", s, ErrBadReference, digest)
		}
	}
	return nil, fmt.Errorf("%q: %w (want REPOSITORY@sha256:DIGEST or REPOSITORY:TAG): %w", s, ErrBadReference, err)
}

// commonProblem reports the mistakes a repository and a reference share,
// with what to write instead.
func commonProblem(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is empty: %w", ErrBadReference)
	case strings.Contains(s, "://"):
		return fmt.Errorf("%q: %w: drop the URL scheme; write %s", s, ErrBadReference, s[strings.Index(s, "://")+3:])
	case strings.ContainsAny(s, " \t\n"):
		return fmt.Errorf("%q: %w: it contains white space", s, ErrBadReference)
	}
	path, _, _ := strings.Cut(s, "@")
	if host, rest, ok := strings.Cut(path, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		path = rest // the registry host may have upper case; the path may not
	}
	if i := strings.LastIndexByte(path, ':'); i >= 0 {
		path = path[:i] // a tag may have upper case
	}
	if path != strings.ToLower(path) {
		return fmt.Errorf("%q: %w: repository paths are lower case; write %s", s, ErrBadReference, strings.Replace(s, path, strings.ToLower(path), 1))
	}
	return nil
}
