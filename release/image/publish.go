package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/validate"
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
// has are not uploaded again. The manifest is pushed by digest and read
// back (manifest, config, every layer present) before any tag is set, so
// a tag never names an image the registry does not serve intact.
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

	// Tags must name only what was checked: the push goes by digest, is
	// read back, and only then tagged.
	tags := make([]name.Tag, len(o.tags))
	for i, t := range o.tags {
		if tags[i], err = name.NewTag(repo.String() + ":" + t); err != nil {
			return name.Digest{}, fmt.Errorf("tag %q: %w", t, err)
		}
	}
	ref := repo.Digest(res.Digest.String())
	var taggable remote.Taggable = res.Image
	if res.Index != nil {
		taggable = res.Index
		err = remote.WriteIndex(ref, res.Index, wopts...)
	} else {
		err = remote.Write(ref, res.Image, wopts...)
	}
	if err != nil {
		return name.Digest{}, registryError(repo, err)
	}
	if err := verifyPushed(ref, res, ropts); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return name.Digest{}, fmt.Errorf("pushing to %s: %w", repo, err)
		}
		reg := repo.RegistryStr()
		return name.Digest{}, &RegistryError{Registry: reg, Repository: repo.String(), Err: err,
			Reason: fmt.Sprintf("registry %s accepted the push but does not serve %s back intact; "+
				"do not deploy it: check the registry's storage (or a proxy in front of it) and push again", reg, ref.DigestStr())}
	}
	for _, tag := range tags {
		if err := remote.Tag(tag, taggable, ropts...); err != nil {
			return name.Digest{}, registryError(repo, err)
		}
	}
	return ref, nil
}

// registryError explains the common ways a push fails and what to do
// about each. Transient failures reach it only after the retries ran out.
func registryError(repo name.Repository, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("pushing to %s: %w", repo, err)
	}
	reg := repo.RegistryStr()
	e := &RegistryError{Registry: reg, Repository: repo.String(), Err: err}
	var terr *transport.Error
	var oerr *net.OpError
	var derr *net.DNSError
	switch {
	case errors.As(err, &terr):
		e.Reason = statusReason(reg, terr)
	case errors.As(err, &derr), errors.As(err, &oerr) && oerr.Op == "dial":
		e.Reason = fmt.Sprintf("registry %s is unreachable; check image.repository, the network and that the registry is running", reg)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Reason = fmt.Sprintf("registry %s kept dropping the connection, also on retries; "+
			"try again, and if it persists check a proxy in front of it and its upload size limit", reg)
	default:
		e.Reason = fmt.Sprintf("registry %s", reg)
	}
	return e
}

// statusReason explains an HTTP answer of reg.
func statusReason(reg string, terr *transport.Error) string {
	code := terr.StatusCode
	for _, d := range terr.Errors {
		if d.Code == transport.DigestInvalidErrorCode {
			return fmt.Sprintf("registry %s received content that does not match its digest (DIGEST_INVALID): "+
				"the bytes were altered on the way; push again, and check any proxy between here and the registry", reg)
		}
	}
	switch {
	case code == http.StatusUnauthorized:
		return fmt.Sprintf("registry %s needs valid credentials (401 Unauthorized); check `docker login %s`", reg, reg)
	case code == http.StatusForbidden:
		return fmt.Sprintf("registry %s denied access (403 Forbidden); the credentials may not push to this repository", reg)
	case code == http.StatusNotFound:
		return fmt.Sprintf("registry %s has no such repository or endpoint (404 Not Found); check image.repository", reg)
	case terr.Temporary():
		return fmt.Sprintf("registry %s answered %d %s, also on retries; it is overloaded or failing: try again later",
			reg, code, http.StatusText(code))
	}
	return fmt.Sprintf("registry %s answered %d %s", reg, code, http.StatusText(code))
}

// verifyPushed reads back what was pushed, by digest, and checks that the
// registry serves exactly it: the manifest (or index) with the digest
// computed here, its config, and every layer present. It reads manifests
// and configs and asks for layers with HEAD, so it costs a few small
// requests. A registry that accepts a push but stores something else would
// otherwise leave a digest in the record that no pod can pull.
func verifyPushed(ref name.Digest, res *Result, ropts []remote.Option) error {
	if res.Index != nil {
		idx, err := remote.Index(ref, ropts...)
		if err != nil {
			return err
		}
		return validate.Index(idx, validate.Fast)
	}
	img, err := remote.Image(ref, ropts...)
	if err != nil {
		return err
	}
	return validate.Image(img, validate.Fast)
}
