#!/usr/bin/env bash
# Downloads the IP enrichment data Vigil uses at run time into data/ip/ (gitignored):
#
#   geo-whois-asn-country.mmdb   country per network, IPv4+IPv6 (@ip-location-db/geo-whois-asn-country-mmdb)
#   asn-ipv4.csv, asn-ipv6.csv   AS number and organisation per range (@ip-location-db/asn)
#   *-LICENSE, *-MODIFICATIONS, *-README.md   the packages' licence and attribution notices
#   SHA256SUMS, VERSION          what was installed
#
# The packages come from the npm registry with `npm pack` and are checked against the sha512
# integrity values pinned below before anything is extracted. Running the script again is a no-op
# while data/ip/ still matches; see data/README.md for sources, licences and attribution.
#
# Usage: scripts/fetch-ip-data.sh [--force] [--dest DIR]
#   --force     download and install again even when data/ip/ is up to date
#   --dest DIR  install into DIR instead of <repo>/data/ip
#
# Needs: bash, npm (and node), tar, sha256sum.
set -euo pipefail

VERSION="2.3.2026061719"
# name|integrity|files to install (globs inside the package)
PACKAGES=(
  "@ip-location-db/geo-whois-asn-country-mmdb|sha512-xemBDNQl4mCYDuVbqe3jKGKsVDykZGkfvebhtOh/3VGLadq8vsp7t7ontpMUt3hH7sAGT0eLDyJ99SV+0waxZg==|geo-whois-asn-country.mmdb"
  "@ip-location-db/asn|sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==|asn-ipv4.csv asn-ipv6.csv"
)

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
dest="$repo_root/data/ip"
force=0

while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --dest)
      [ $# -ge 2 ] || { echo "fetch-ip-data: --dest needs a directory" >&2; exit 2; }
      dest="$2"
      shift
      ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-ip-data: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

for tool in npm node tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fetch-ip-data: $tool is required but not installed" >&2; exit 1; }
done

# The VERSION file this run would write; equal content means the same packages.
expected_version() {
  echo "# Written by scripts/fetch-ip-data.sh: npm package, version, sha512 integrity."
  local entry name integrity
  for entry in "${PACKAGES[@]}"; do
    IFS='|' read -r name integrity _ <<<"$entry"
    echo "$name $VERSION $integrity"
  done
}

if [ "$force" = 0 ] && [ -f "$dest/VERSION" ] && [ -f "$dest/SHA256SUMS" ] \
  && [ "$(cat "$dest/VERSION")" = "$(expected_version)" ] \
  && (cd "$dest" && sha256sum --check --quiet --status SHA256SUMS); then
  echo "fetch-ip-data: $dest is up to date (ip-location-db $VERSION)"
  exit 0
fi

mkdir -p "$dest"
work="$(mktemp -d "${TMPDIR:-/tmp}/vigil-ip-data.XXXXXX")"
# Staged next to the destination so that the final moves are renames on one file system.
stage="$(mktemp -d "$dest/.staging.XXXXXX")"
cleanup() { rm -rf "$work" "$stage"; }
trap cleanup EXIT

sha512_integrity() {
  node -e 'const c = require("crypto"), fs = require("fs");
    process.stdout.write("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));' "$1"
}

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name integrity files <<<"$entry"
  short="${name##*/}"
  pkg_dir="$work/$short"
  mkdir -p "$pkg_dir/unpacked"
  echo "fetch-ip-data: downloading $name@$VERSION"
  (cd "$pkg_dir" && npm pack --silent --pack-destination "$pkg_dir" "$name@$VERSION" >/dev/null)
  tarballs=("$pkg_dir"/*.tgz)
  if [ "${#tarballs[@]}" -ne 1 ] || [ ! -f "${tarballs[0]}" ]; then
    echo "fetch-ip-data: npm pack did not produce one tarball for $name@$VERSION" >&2
    exit 1
  fi
  actual="$(sha512_integrity "${tarballs[0]}")"
  if [ "$actual" != "$integrity" ]; then
    echo "fetch-ip-data: integrity mismatch for $name@$VERSION" >&2
    echo "  expected $integrity" >&2
    echo "  got      $actual" >&2
    exit 1
  fi
  tar -xzf "${tarballs[0]}" -C "$pkg_dir/unpacked"
  src="$pkg_dir/unpacked/package"

  for f in $files; do
    [ -f "$src/$f" ] || { echo "fetch-ip-data: $name@$VERSION has no $f" >&2; exit 1; }
    cp "$src/$f" "$stage/$f"
  done
  # Licence and attribution notices, prefixed with the package name (two packages ship an
  # NRO_LICENSE).
  found_licence=0
  for f in "$src"/*; do
    base="$(basename "$f")"
    case "$base" in
      *LICENSE*|*LICENCE*|*license*|COPYING*|NOTICE*|MODIFICATIONS*|README*)
        cp "$f" "$stage/$short-$base"
        case "$base" in README*) ;; *) found_licence=1 ;; esac
        ;;
    esac
  done
  [ "$found_licence" = 1 ] || { echo "fetch-ip-data: $name@$VERSION ships no licence file" >&2; exit 1; }
done

(cd "$stage" && sha256sum -- * > SHA256SUMS)
expected_version > "$stage/VERSION"

# Install: data files first, VERSION last, so that an interrupted run is redone next time.
rm -f "$dest/VERSION"
for f in "$stage"/*; do
  base="$(basename "$f")"
  [ "$base" = VERSION ] && continue
  mv -f "$f" "$dest/$base"
done
mv -f "$stage/VERSION" "$dest/VERSION"

echo "fetch-ip-data: installed ip-location-db $VERSION into $dest:"
(cd "$dest" && ls -l -- $(cut -d' ' -f3- SHA256SUMS) | awk '{print "  " $5 "\t" $9}')
