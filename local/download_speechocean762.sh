#!/usr/bin/env bash
# Downloads and unpacks speechocean762 (OpenSLR 101, ~520 MB, free for commercial and non-commercial use) into
# <dir>/speechocean762 (WAVE/, train/, test/, resource/), the layout local/make_speechocean762.py reads.
# Usage: local/download_speechocean762.sh <dir>
#  e.g.: local/download_speechocean762.sh downloads
set -euo pipefail
url=https://www.openslr.org/resources/101/speechocean762.tar.gz
mirror=https://us.openslr.org/resources/101/speechocean762.tar.gz
if [ $# -ne 1 ]; then sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; fi
dir=$1
mkdir -p "$dir"
if [ -f "$dir/speechocean762/resource/lexicon.txt" ]; then
  echo "$0: $dir/speechocean762 is already there"; exit 0
fi
tarball=$dir/speechocean762.tar.gz
if [ ! -s "$tarball" ]; then
  for u in $url $mirror; do
    echo "$0: downloading $u"
    if command -v wget > /dev/null; then wget -c -O "$tarball.part" "$u" && break
    else curl -L -C - -o "$tarball.part" "$u" && break; fi
  done
  mv "$tarball.part" "$tarball"
fi
tar -xzf "$tarball" -C "$dir"
[ -d "$dir/speechocean762/WAVE" ] || { echo "$0: $tarball did not unpack to $dir/speechocean762/WAVE" >&2; exit 1; }
echo "$0: speechocean762 is in $dir/speechocean762"
