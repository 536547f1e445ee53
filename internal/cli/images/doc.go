// Package images is the `podid images` command: it builds podid's images
// (podid, pause, kvreader, busybox; see internal/image) from this clone's
// source without Docker, and writes them as OCI layouts and docker-archive
// tarballs (`podid images build`) or pushes them to a registry
// (`podid images push`). Both print one "NAME DIGEST" line per image; the
// digest is the image index's, the one a pull by tag resolves to.
package images
