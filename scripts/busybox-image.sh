#!/usr/bin/env bash
# Builds an OCI image of Debian's busybox-static with every applet, as an OCI-archive
# tarball that reef-agent imports (`reef-agent images import FILE`, or --images-dir):
# the examples run on a box with no registry and no internet.
#
#   scripts/busybox-image.sh OUT.tar [REFERENCE]    (default docker.io/library/busybox:1.36)
set -euo pipefail

out=${1:?usage: $0 OUT.tar [REFERENCE]}
ref=${2:-docker.io/library/busybox:1.36}
busybox=$(command -v busybox) || { echo "$0: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
arch=$(dpkg --print-architecture)
case "$arch" in armhf) arch=arm ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umoci init --layout "$work/layout"
umoci new --image "$work/layout:img"
umoci unpack --image "$work/layout:img" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/tmp" "$work/bundle/rootfs/var/log"
cp "$busybox" "$work/bundle/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/bundle/rootfs/bin/$applet"
done
umoci repack --image "$work/layout:img" "$work/bundle" >/dev/null
umoci config --image "$work/layout:img" --config.cmd /bin/sh --config.env PATH=/bin \
  --architecture "$arch" --os linux
umoci gc --layout "$work/layout"
rm -f "$out"
skopeo copy --quiet "oci:$work/layout:img" "oci-archive:$out:$ref"
echo "$out: $ref ($arch)"
