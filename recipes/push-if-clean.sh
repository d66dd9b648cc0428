#!/usr/bin/env bash
# Push a local Docker image only when imagescan finds no secret in it: not
# in its final files, not in files a later layer deleted, not in its
# build history. Use it instead of `docker push`, or call it from a
# registry-admission or pre-push hook.
#
# Usage: push-if-clean.sh IMAGE DESTINATION
#   e.g. push-if-clean.sh app:1.2 registry.example.com/team/app:1.2
# Exits 0 when pushed, 1 when refused for secrets, 2 when it could not
# scan or push.
set -euo pipefail
if [ $# -ne 2 ]; then
	echo "usage: $0 IMAGE DESTINATION" >&2
	exit 2
fi
image=$1 dest=$2

status=0
imagescan scan -q "docker-daemon:$image" >&2 || status=$?
case $status in
0) ;;
1)
	echo "push-if-clean: refusing to push $image: it holds secrets (above)" >&2
	exit 1
	;;
*)
	echo "push-if-clean: refusing to push $image: it could not be scanned (above)" >&2
	exit 2
	;;
esac
if ! docker tag "$image" "$dest" || ! docker push "$dest"; then
	echo "push-if-clean: $image is clean, but pushing it to $dest failed (above)" >&2
	exit 2
fi
