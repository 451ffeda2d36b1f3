#!/bin/bash
# The one list of what lbwatch installs, for `make install`, `make uninstall` and the tree `make deb`
# packs. Install records every file, link and directory it creates in a manifest, so uninstall
# removes exactly those, even after the checkout moved on (other dependencies, other files).
#
#   install-tree.sh install [--no-manifest]   (the Debian package: dpkg keeps its own list)
#   install-tree.sh uninstall
#
# Environment: PREFIX (required), DESTDIR (staging root, may be empty), SYSCONFDIR (default /etc),
# UNITDIR (default PREFIX/lib/systemd/system), RUNTIME (install: a directory holding the production
# node_modules, made by `make`).
set -euo pipefail
shopt -s nullglob

: "${PREFIX:?PREFIX is required}"
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
LIBDIR=$PREFIX/lib/lbwatch
DATADIR=$PREFIX/share
MANIFEST=$LIBDIR/install-manifest
CONFIG=$SYSCONFDIR/lbwatch/lbwatch.yaml
# The shipped example configs name the templates at Debian's path; other prefixes get theirs.
SHIPPED_DATADIR=/usr/share

record=""

note() { printf 'lbwatch %s: %s\n' "$1" "$2" >&2; }

# Appends one manifest line: TYPE PATH, or for a config TYPE SHA256 PATH.
record() { if [ -n "$record" ]; then printf '%s\n' "$*" >>"$record"; fi; }

# Creates PATH (a final path, without DESTDIR) and each missing parent, recording each one created.
make_dirs() {
  local dir=$1 missing=()
  while [ "$dir" != / ] && [ ! -d "$DESTDIR$dir" ]; do
    missing=("$dir" "${missing[@]}")
    dir=$(dirname "$dir")
  done
  for dir in "${missing[@]}"; do
    install -d -m 755 "$DESTDIR$dir"
    record d "$dir"
  done
}

# put MODE SRC DST: one file.
put() {
  make_dirs "$(dirname "$3")"
  install -m "$1" "$2" "$DESTDIR$3"
  record f "$3"
}

# put_tree SRC DST FIND-ARGS...: the files under SRC matching FIND-ARGS, as 0644, same layout.
put_tree() {
  local src=$1 dst=$2 rel
  shift 2
  while IFS= read -r -d '' rel; do
    put 644 "$src/$rel" "$dst/$rel"
  done < <(cd "$src" && find . -type f "$@" -printf '%P\0' | LC_ALL=C sort -z)
}

# put_copy SRC DST: a whole directory tree at once (node_modules: thousands of files), normalised
# to root-readable 0755 directories and 0644 files, then recorded.
put_copy() {
  local src=$1 dst=$2 type rel
  make_dirs "$(dirname "$dst")"
  cp -R --no-preserve=mode,ownership,timestamps "$src" "$DESTDIR$dst"
  find "$DESTDIR$dst" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
  while IFS= read -r -d '' type && IFS= read -r -d '' rel; do
    case $type in
      d) record d "$dst${rel:+/$rel}" ;;
      f) record f "$dst/$rel" ;;
      l) record l "$dst/$rel" ;;
    esac
  done < <(cd "$DESTDIR$dst" && find . -printf '%y\0%P\0')
}

# fill SRC: SRC with the install paths substituted, on stdout.
fill() {
  sed -e "s|@BINDIR@|$PREFIX/bin|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" -e "s|@DATADIR@|$DATADIR|g" \
    -e "s|$SHIPPED_DATADIR/lbwatch/|$DATADIR/lbwatch/|g" "$1"
}

# put_filled SRC DST: SRC through fill, as 0644.
put_filled() {
  local tmp
  tmp=$(mktemp)
  fill "$1" >"$tmp"
  put 644 "$tmp" "$2"
  rm -f "$tmp"
}

do_install() {
  : "${RUNTIME:?RUNTIME (the production node_modules) is required}"
  local manifest=yes
  if [ "${1:-}" = --no-manifest ]; then manifest=""; fi
  if [ -n "$manifest" ] && [ -f "$DESTDIR$MANIFEST" ]; then do_uninstall; fi
  if [ -e "$DESTDIR$LIBDIR/node_modules" ]; then
    note install "$DESTDIR$LIBDIR/node_modules exists and is not from a recorded install; remove it first"
    exit 1
  fi
  if [ -n "$manifest" ]; then
    record=$(mktemp)
    # Also when a step fails half-way: uninstall then removes what was put there.
    trap write_manifest EXIT
  fi

  put 644 package.json "$LIBDIR/package.json"
  put 755 bin/lbwatch "$LIBDIR/bin/lbwatch"
  put_tree dist "$LIBDIR/dist" -name '*.js'
  put 644 bpf/lbwatch.bpf.o "$LIBDIR/bpf/lbwatch.bpf.o"
  put 644 native/build/Release/lbwatch.node "$LIBDIR/native/build/Release/lbwatch.node"
  put_copy "$RUNTIME/node_modules" "$LIBDIR/node_modules"
  # Relative, so it also resolves inside DESTDIR; node follows it to the real bin/lbwatch, whose
  # ../dist is then the installed one.
  make_dirs "$PREFIX/bin"
  ln -sfn ../lib/lbwatch/bin/lbwatch "$DESTDIR$PREFIX/bin/lbwatch"
  record l "$PREFIX/bin/lbwatch"

  put_tree templates "$DATADIR/lbwatch/templates" -name '*.hbs'
  local example yaml
  for example in examples/haproxy examples/nginx examples/grafana; do
    put_tree "$example" "$DATADIR/lbwatch/$example" ! -name '*.yaml'
    for yaml in "$example"/*.yaml; do put_filled "$yaml" "$DATADIR/lbwatch/$yaml"; done
  done
  put_filled packaging/lbwatch.service.in "$UNITDIR/lbwatch.service"
  put_filled packaging/lbwatch-agent.service.in "$UNITDIR/lbwatch-agent.service"

  # The config is the operator's once installed: never overwritten; removed by uninstall only
  # while it is still the file installed (its checksum recorded here).
  if [ -e "$DESTDIR$CONFIG" ]; then
    note install "keeping the existing $DESTDIR$CONFIG"
  else
    make_dirs "$(dirname "$CONFIG")"
    fill examples/haproxy/lbwatch.yaml >"$DESTDIR$CONFIG"
    chmod 644 "$DESTDIR$CONFIG"
    record c "$(sha256sum <"$DESTDIR$CONFIG" | cut -d' ' -f1)" "$CONFIG"
  fi
}

write_manifest() {
  make_dirs "$LIBDIR"
  record f "$MANIFEST"
  install -m 644 "$record" "$DESTDIR$MANIFEST"
  rm -f "$record"
}

do_uninstall() {
  if [ ! -f "$DESTDIR$MANIFEST" ]; then
    note uninstall "nothing recorded at $DESTDIR$MANIFEST: lbwatch is not installed with PREFIX=$PREFIX${DESTDIR:+ DESTDIR=$DESTDIR}"
    exit 1
  fi
  local line type path sum files=() dirs=()
  while IFS= read -r line; do
    type=${line%% *}
    path=${line#* }
    case $type in
      f | l) files+=("$DESTDIR$path") ;;
      c)
        sum=${path%% *}
        path=${path#* }
        if [ -f "$DESTDIR$path" ] && [ "$(sha256sum <"$DESTDIR$path" | cut -d' ' -f1)" = "$sum" ]; then
          files+=("$DESTDIR$path")
        elif [ -e "$DESTDIR$path" ]; then
          note uninstall "keeping $DESTDIR$path: changed since it was installed"
        fi
        ;;
      d) dirs+=("$DESTDIR$path") ;;
      *)
        note uninstall "$DESTDIR$MANIFEST: unknown entry '$line'"
        exit 1
        ;;
    esac
  done <"$DESTDIR$MANIFEST"
  if [ ${#files[@]} -gt 0 ]; then printf '%s\0' "${files[@]}" | xargs -0 rm -f --; fi
  if [ ${#dirs[@]} -eq 0 ]; then return; fi
  # Deepest first; a directory that now holds something lbwatch did not put there stays.
  printf '%s\0' "${dirs[@]}" | LC_ALL=C sort -rz | xargs -0 rmdir --ignore-fail-on-non-empty --
  # Named once, at the deepest directories kept (their parents are kept for them).
  local dir
  local -A parent_of_kept=()
  for dir in "${dirs[@]}"; do
    if [ -d "$dir" ]; then parent_of_kept[${dir%/*}]=1; fi
  done
  for dir in "${dirs[@]}"; do
    if [ -d "$dir" ] && [ -z "${parent_of_kept[$dir]:-}" ]; then
      note uninstall "keeping $dir: it holds files lbwatch did not install"
    fi
  done
}

case ${1:-} in
  install) do_install "${2:-}" ;;
  uninstall) do_uninstall ;;
  *)
    echo "usage: install-tree.sh install [--no-manifest] | uninstall" >&2
    exit 2
    ;;
esac
