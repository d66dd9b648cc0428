#!/usr/bin/env bash
# The contractor hand-off audit: scan the exact `docker save` archive you
# are about to send, and keep the JSON report, named after the archive's
# SHA-256, as the sign-off. Every layer is read and verified again (no
# layer cache), deleted files and the build history included.
#
# Usage: handoff-audit.sh ARCHIVE [REPORT_DIR]
#   e.g. docker save app:1.2 -o app-1.2.tar && handoff-audit.sh app-1.2.tar signoff/
# Exits 0 when the archive is clean, 1 when it holds secrets, 2 on an error.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 ARCHIVE [REPORT_DIR]" >&2
	exit 2
fi
archive=$1 dir=${2:-.}
if [ ! -f "$archive" ]; then
	echo "audit failed: no archive $archive" >&2
	exit 2
fi
mkdir -p "$dir"
sum=$(sha256sum "$archive" | cut -d' ' -f1)
report="$dir/imagescan-$sum.json"

status=0
imagescan scan -q --no-cache -f json -o "$report" "$archive" || status=$?
case $status in
0) echo "clean: $archive (sha256 $sum); sign-off report: $report" ;;
1)
	echo "NOT CLEAN: $archive holds secrets; do not send it. Report: $report" >&2
	exit 1
	;;
*)
	echo "audit failed: $archive could not be scanned completely; do not send it. Report: $report" >&2
	exit 2
	;;
esac
