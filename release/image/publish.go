package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PushOption configures Push.
type PushOption func(*pushOptions)

type pushOptions struct {
	tags      []string
	keychain  authn.Keychain
	transport http.RoundTripper
	backoff   *remote.Backoff
	progress  func(complete, total int64)
}

// WithTags pushes the image under these tags too. Without tags the
// manifest is pushed by digest only.
func WithTags(tags ...string) PushOption {
	return func(o *pushOptions) { o.tags = append(o.tags, tags...) }
}

// WithKeychain sets where registry credentials come from; the default is
// authn.DefaultKeychain (the docker config and its credential helpers).
func WithKeychain(k authn.Keychain) PushOption { return func(o *pushOptions) { o.keychain = k } }

// WithTransport sets the HTTP transport; retries are added around it.
func WithTransport(t http.RoundTripper) PushOption { return func(o *pushOptions) { o.transport = t } }

// WithRetryBackoff sets how transient errors (connection resets, 408, 429
// and 5xx answers) are retried. The default waits 1s, then 3s.
func WithRetryBackoff(b remote.Backoff) PushOption { return func(o *pushOptions) { o.backoff = &b } }

// WithPushProgress receives the bytes uploaded so far and the total.
func WithPushProgress(f func(complete, total int64)) PushOption {
	return func(o *pushOptions) { o.progress = f }
}

// RegistryError is a failed push, with the registry named and the likely
// cause spelled out.
type RegistryError struct {
	Registry   string
	Repository string
	// Reason is a short explanation, e.g. "authentication required".
	Reason string
	Err    error
}

func (e *RegistryError) Error() string {
	return fmt.Sprintf("pushing to %s: %s: %v", e.Repository, e.Reason, e.Err)
}

func (e *RegistryError) Unwrap() error { return e.Err }

// Push uploads the result to repository (registry/path, no tag) and returns
// the pushed reference, repository@sha256:... Blobs the registry already
// has are not uploaded again.
func Push(ctx context.Context, res *Result, repository string, opts ...PushOption) (name.Digest, error) {
	o := pushOptions{keychain: authn.DefaultKeychain}
	for _, opt := range opts {
		opt(&o)
	}
	repo, err := name.NewRepository(repository)
	if err != nil {
		return name.Digest{}, fmt.Errorf("repository %q: %w", repository, err)
	}
	ropts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(o.keychain)}
	if o.transport != nil {
		ropts = append(ropts, remote.WithTransport(o.transport))
	}
	if o.backoff != nil {
		ropts = append(ropts, remote.WithRetryBackoff(*o.backoff))
	}
	wopts := ropts
	if o.progress != nil {
		// ggcr closes the channel when the write returns.
		updates := make(chan v1.Update, 16)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for u := range updates {
				o.progress(u.Complete, u.Total)
			}
		}()
		defer func() { <-done }()
		wopts = append(slices.Clip(ropts), remote.WithProgress(updates))
	}

	ref := repo.Digest(res.Digest.String())
	var first name.Reference = ref
	if len(o.tags) > 0 {
		if first, err = name.NewTag(repo.String() + ":" + o.tags[0]); err != nil {
			return name.Digest{}, fmt.Errorf("tag %q: %w", o.tags[0], err)
		}
	}
	if res.Index != nil {
		err = remote.WriteIndex(first, res.Index, wopts...)
	} else {
		err = remote.Write(first, res.Image, wopts...)
	}
	if err != nil {
		return name.Digest{}, registryError(repo, err)
	}
	for _, t := range o.tags[min(1, len(o.tags)):] {
		tag, err := name.NewTag(repo.String() + ":" + t)
		if err != nil {
			return name.Digest{}, fmt.Errorf("tag %q: %w", t, err)
		}
		var taggable remote.Taggable = res.Image
		if res.Index != nil {
			taggable = res.Index
		}
		if err := remote.Tag(tag, taggable, ropts...); err != nil {
			return name.Digest{}, registryError(repo, err)
		}
	}
	return ref, nil
}

// registryError explains the common ways a push fails.
func registryError(repo name.Repository, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("pushing to %s: %w", repo, err)
	}
	reg := repo.RegistryStr()
	e := &RegistryError{Registry: reg, Repository: repo.String(), Err: err}
	var terr *transport.Error
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized:
		e.Reason = fmt.Sprintf("registry %s needs valid credentials (401 Unauthorized); check `docker login %s`", reg, reg)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusForbidden:
		e.Reason = fmt.Sprintf("registry %s denied access (403 Forbidden); the credentials may not push to this repository", reg)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		e.Reason = fmt.Sprintf("registry %s has no such repository or endpoint (404 Not Found)", reg)
	case errors.As(err, &terr):
		e.Reason = fmt.Sprintf("registry %s answered %d %s", reg, terr.StatusCode, http.StatusText(terr.StatusCode))
	case errors.As(err, &nerr), errors.As(err, &uerr):
		e.Reason = fmt.Sprintf("registry %s is unreachable", reg)
	default:
		e.Reason = fmt.Sprintf("registry %s", reg)
	}
	return e
}
