package cloud

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// registryContent keeps each registry's OCI content: one in-memory
// distribution registry (go-containerregistry's package registry) per
// registry name. It has no authentication of its own; registry_serve.go
// puts ACR's in front of it. The zero value is ready to use.
type registryContent struct {
	mu    sync.Mutex
	byKey map[string]*registryBackend
	// frontDoor is the loopback front door RegistryTransport dials.
	frontDoor string
}

type registryBackend struct {
	handler http.Handler
	seed    sync.Once
	seedErr error
}

// backend returns the storage of the registry called name, creating it
// empty on first use.
func (rc *registryContent) backend(name string) *registryBackend {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.byKey == nil {
		rc.byKey = map[string]*registryBackend{}
	}
	b, ok := rc.byKey[lower(name)]
	if !ok {
		b = &registryBackend{handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
		rc.byKey[lower(name)] = b
	}
	return b
}

// drop forgets a deleted registry's content.
func (rc *registryContent) drop(name string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delete(rc.byKey, lower(name))
}

// registryStorage is the content handler of the registry called name,
// loaded with the registry's declared images the first time it is asked
// for (so a cloud restarted from its state serves them again).
func (c *Cloud) registryStorage(name string) (http.Handler, error) {
	b := c.store.content.backend(name)
	b.seed.Do(func() {
		c.store.mu.Lock()
		var images []RegistryImage
		if r := c.store.registryLocked(name); r != nil {
			images = append(images, r.Images...)
		}
		c.store.mu.Unlock()
		for _, im := range images {
			if err := pushLayout(b.handler, name, im); err != nil {
				b.seedErr = err
				c.log.Error("load registry image", "registry", name, "repository", im.Repository, "tag", im.Tag, "error", err)
				return
			}
		}
	})
	return b.handler, b.seedErr
}

// handlerTransport sends requests straight to an http.Handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// LayoutImage finds the manifest of the OCI layout at dir whose
// org.opencontainers.image.ref.name is ref, or the only manifest when ref
// is empty, and returns it as an image or an index (exactly one is set).
func LayoutImage(dir, ref string) (v1.Image, v1.ImageIndex, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, nil, fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("read OCI layout %s: %w", dir, err)
	}
	var pick *v1.Descriptor
	var names []string
	for i, d := range im.Manifests {
		n := d.Annotations["org.opencontainers.image.ref.name"]
		names = append(names, n)
		if (ref == "" && len(im.Manifests) == 1) || (ref != "" && n == ref) {
			pick = &im.Manifests[i]
		}
	}
	if pick == nil {
		if ref == "" {
			return nil, nil, fmt.Errorf("OCI layout %s holds %d manifests; name one with ref (have %q)", dir, len(im.Manifests), names)
		}
		return nil, nil, fmt.Errorf("OCI layout %s has no manifest named %q (have %q)", dir, ref, names)
	}
	if pick.MediaType.IsIndex() {
		ii, err := idx.ImageIndex(pick.Digest)
		return nil, ii, err
	}
	img, err := idx.Image(pick.Digest)
	return img, nil, err
}

func pushLayout(h http.Handler, registryName string, im RegistryImage) error {
	img, ii, err := LayoutImage(im.Layout, im.Ref)
	if err != nil {
		return err
	}
	_, err = pushTo(h, registryName, im.Repository, im.Tag, img, ii)
	return err
}

// pushTo writes img (or ii) to repository:tag of the storage h.
func pushTo(h http.Handler, registryName, repository, tag string, img v1.Image, ii v1.ImageIndex) (v1.Hash, error) {
	ref, err := name.ParseReference(RegistryLoginServer(registryName)+"/"+repository+":"+tag, name.StrictValidation)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push %s:%s: %w", repository, tag, err)
	}
	opt := remote.WithTransport(handlerTransport{h})
	if ii != nil {
		if err := remote.WriteIndex(ref, ii, opt); err != nil {
			return v1.Hash{}, fmt.Errorf("push %s: %w", ref, err)
		}
		return ii.Digest()
	}
	if err := remote.Write(ref, img, opt); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: %w", ref, err)
	}
	return img.Digest()
}

// PushImage stores img in the registry called registryName as
// repository:tag, as an administrator would with a push that bypasses
// authorization and the firewall. It returns the manifest digest.
func (c *Cloud) PushImage(registryName, repository, tag string, img v1.Image) (v1.Hash, error) {
	return c.push(registryName, repository, tag, img, nil)
}

// PushIndex is PushImage for a multi-platform image index.
func (c *Cloud) PushIndex(registryName, repository, tag string, ii v1.ImageIndex) (v1.Hash, error) {
	return c.push(registryName, repository, tag, nil, ii)
}

func (c *Cloud) push(registryName, repository, tag string, img v1.Image, ii v1.ImageIndex) (v1.Hash, error) {
	c.store.mu.Lock()
	found := c.store.registryLocked(registryName) != nil
	c.store.mu.Unlock()
	if !found {
		return v1.Hash{}, fmt.Errorf("push %s:%s: no registry named %q", repository, tag, registryName)
	}
	if strings.ToLower(repository) != repository {
		return v1.Hash{}, fmt.Errorf("push %s:%s: repository names are lower case", repository, tag)
	}
	h, err := c.registryStorage(registryName)
	if err != nil {
		return v1.Hash{}, err
	}
	return pushTo(h, registryName, repository, tag, img, ii)
}
