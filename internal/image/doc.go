// Package image builds OCI images of podid's own programs without Docker.
//
// A Spec names a Go main package of this module plus what goes around it
// (entrypoint, user, env, host files such as Debian's static busybox, and
// symlinks). Build cross-compiles the package for each platform with
// CGO_ENABLED=0, packs the binary and files into one layer and wraps the
// per-platform images in an image index.
//
// Programs that are not podid's own come from Debian (Spec.Debian): for
// each platform, apt-get download fetches the packages of its architecture
// into a cache (DebianRoot; a warm cache needs no network), dpkg-deb -x
// unpacks them, and the image takes the listed paths plus the shared
// libraries (DT_NEEDED) and program interpreter their ELF files need. The
// podid image carries iptables this way, both backends, for nmi.
//
// Builds are reproducible: the layer tar has sorted entries, mtime 0 and
// owner 0:0, the config carries no creation time and the Go build is
// -trimpath -buildvcs=false, so the same sources, toolchain and spec give
// the same digest. That lets callers compare digests instead of pushing
// again, and lets kubelet's imagePullPolicy: Always find nothing new.
//
// The images leave this package three ways: an OCI image layout folder
// (WriteLayout), a docker-archive tarball that `ctr images import` takes
// (WriteTarball), and a push to a registry (Push). ServeRegistry runs an
// in-memory registry on a loopback listener for a node's containerd to
// pull from through a registry mirror.
//
// Catalog lists the images podid's real-node tests run: podid itself,
// pause, kvreader (a stand-in for the az-keyvault-reader sidecar) and
// busybox.
package image
