#!/usr/bin/env python3
"""Compare an imagescan JSON report of the realistic image with the planted
leaks: print every finding that is not planted (noise) and every planted
leak that was not found, and exit 1 if there are any missed.

usage: check.py REPORT.json KEY.json
"""
import json, sys

report = json.load(open(sys.argv[1]))
key = {(k["path"], k["rule_id"]) for k in json.load(open(sys.argv[2]))}
img = report["images"][0]
found = {(f["location"].get("path", f["location"].get("field")), f["rule_id"]) for f in img["findings"]}
noise = sorted(found - key)
missed = sorted(key - found)
cov = img["coverage"]
print(f"files {cov['files']}, bytes {cov['bytes']}, archives {cov['archives']}, skipped {cov['skipped']}, suppressed {cov['suppressed']}")
print(f"planted {len(key)}, found {len(key & found)}, missed {len(missed)}, noise {len(noise)}")
for where, rule in noise:
    print(f"  noise:  {rule} at {where}")
for where, rule in missed:
    print(f"  missed: {rule} at {where}")
sys.exit(1 if missed else 0)
