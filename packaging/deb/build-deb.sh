#!/bin/bash
# make deb: the tree of install-tree.sh (PREFIX=/usr, units in /lib/systemd/system) plus the Debian
# control files, packed by dpkg-deb with root-owned files. No debhelper: what dh would generate
# (md5sums, Installed-Size, the doc directory) is written here.
#
#   build-deb.sh OUT.deb RUNTIME-DIR    (environment: VERSION, ARCH, MAINTAINER)
set -euo pipefail

out=$1
runtime=$2
: "${VERSION:?}" "${ARCH:?}" "${MAINTAINER:?}"
here=packaging/deb

root=$(mktemp -d "$(dirname "$out")/deb-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"

DESTDIR=$root PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system RUNTIME=$runtime \
  packaging/install-tree.sh install --no-manifest

# Timestamps: the last commit's, so two builds of one commit give the same files.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

doc=$root/usr/share/doc/lbwatch
install -d -m 755 "$doc"
install -m 644 "$here/copyright" "$doc/copyright"
gzip -9n <README.md >"$doc/README.md.gz"
printf 'lbwatch (%s) unstable; urgency=medium\n\n  * Release %s; see README.md.gz.\n\n -- %s  %s\n' \
  "$VERSION" "$VERSION" "$MAINTAINER" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$doc/changelog.gz"
chmod 644 "$doc"/*.gz

install -d -m 755 "$root/DEBIAN"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$root/DEBIAN/md5sums"
# As dpkg-gencontrol counts it: each file's size rounded up to KiB, one KiB per directory or link.
installed_size=$(cd "$root" && find . -path ./DEBIAN -prune -o ! -path . -printf '%y %s\n' |
  awk '$1 == "f" { kib += int(($2 + 1023) / 1024); next } { kib += 1 } END { print kib }')
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
  -e "s|@INSTALLED_SIZE@|$installed_size|" "$here/control.in" >"$root/DEBIAN/control"
install -m 644 "$here/conffiles" "$root/DEBIAN/conffiles"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
for script in postinst prerm postrm; do install -m 755 "$here/$script" "$root/DEBIAN/$script"; done

dpkg-deb --root-owner-group --build "$root" "$out.tmp" >/dev/null
mv -f "$out.tmp" "$out"
echo "$out"
