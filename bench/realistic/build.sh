#!/usr/bin/env bash
# Builds the realistic image: a Debian bookworm base (debootstrap minbase
# plus python3, pip, nodejs, npm, git, curl, openssh-client, as a typical
# Node service image would have), the npm packages of package-lock.json
# installed as an app, and a layer of planted leaks (plant.py). Writes
# OUT/realistic.tar (about 1 GB, not committed), OUT/realistic-2x.tar (the
# same with the app and /usr copied once more, about 1.8 GB, to show how
# memory grows with the image) and OUT/planted.json.
#
# Needs root, debootstrap, npm, python3 and network access to Debian's
# mirror and the npm registry. Usage: bench/realistic/build.sh [OUT]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/../out}")
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >&2
chroot "$work/rootfs" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-pip nodejs npm ca-certificates curl git openssh-client' >&2

mkdir -p "$work/app"
cp "$here/package.json" "$here/package-lock.json" "$work/app/"
(cd "$work/app" && npm ci --no-audit --no-fund --ignore-scripts >&2)

python3 "$here/plant.py" "$work/planted" "$out/planted.json"
python3 "$here/../assemble.py" "$out/realistic.tar" realistic:1 \
	"$work/rootfs:" "$work/app/node_modules:srv/app/node_modules" "$work/planted:"
python3 "$here/../assemble.py" "$out/realistic-2x.tar" realistic:2x \
	"$work/rootfs:" "$work/app/node_modules:srv/app/node_modules" "$work/planted:" \
	"$work/app/node_modules:srv/app2/node_modules" "$work/rootfs/usr:opt/mirror/usr"
ls -l "$out"/realistic*.tar
