#!/usr/bin/env bash
# Builds the root file systems of the container images the local stack runs, from what those
# images hold, into the tool cache: containers then run their commands under busybox's sh and
# applets, as in production, not under the host's dash and GNU tools. Called by build-tools.sh;
# idempotent (a finished root is kept).
#   images/busybox-<v>      busybox (Debian's static build), its applets, /etc/passwd and group
#   images/restic-<v>       that plus /usr/bin/restic and CA certificates: the official
#                           restic/restic image is Alpine with busybox, restic, ca-certificates
#                           (and fuse, openssh-client, tzdata, jq, which the Jobs do not use)
set -euo pipefail
cache=$1 busybox_version=$2 restic_version=$3
images="$cache/images"
mkdir -p "$images"

# The directory is named without the Debian epoch ("1:").
busybox_root="$images/busybox-${busybox_version#*:}"
# bin/busybox, not bin/sh: that is a link to /bin/busybox, which resolves inside the image only.
if [[ -x "$busybox_root/bin/busybox" ]]; then echo "cached  busybox image root $busybox_version"; else
  start=$SECONDS work="$cache/src/busybox-$busybox_version"
  rm -rf "$work" "$busybox_root.tmp" && mkdir -p "$work" "$busybox_root.tmp"
  # Fetched as a package file and unpacked into the cache: nothing is installed on the host.
  # The pinned version, else (once the mirror has moved on to a security update) the current one.
  (cd "$work" && { apt-get download -q "busybox-static=$busybox_version" 2>/dev/null ||
    { apt-get update -qq && apt-get download -q "busybox-static=$busybox_version"; } ||
    apt-get download -q busybox-static; })
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/unpacked"
  root="$busybox_root.tmp"
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" && chmod 1777 "$root/tmp"
  cp "$work/unpacked/bin/busybox" "$root/bin/busybox"
  # One symlink per applet, where the busybox image has them (/bin/sh, /usr/bin/env, ...).
  "$root/bin/busybox" --list-full | while read -r applet; do
    [[ -e "$root/$applet" ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  rm -rf "$busybox_root" && mv "$busybox_root.tmp" "$busybox_root"
  echo "built   busybox image root $busybox_version in $((SECONDS - start))s"
fi
ln -sfn "$busybox_root" "$images/busybox"

restic_root="$images/restic-$restic_version"
if [[ -x "$restic_root/usr/bin/restic" ]]; then echo "cached  restic image root $restic_version"; else
  rm -rf "$restic_root.tmp" && cp -a "$busybox_root" "$restic_root.tmp"
  mkdir -p "$restic_root.tmp/usr/bin" "$restic_root.tmp/etc/ssl/certs"
  cp "$cache/bin/restic-$restic_version" "$restic_root.tmp/usr/bin/restic"
  if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then cp /etc/ssl/certs/ca-certificates.crt "$restic_root.tmp/etc/ssl/certs/"; fi
  rm -rf "$restic_root" && mv "$restic_root.tmp" "$restic_root"
  echo "built   restic image root $restic_version"
fi
ln -sfn "$restic_root" "$images/restic"
