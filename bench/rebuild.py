#!/usr/bin/env python3
"""Rebuild a docker save archive as a builder would without a cache.

usage: rebuild.py IN.tar OUT.tar

Every layer holds the same files at the same paths, dated one second
later, so every layer has a new diff_id: the layer cache knows none of
them, and only what it keeps by content can spare their scan.
"""
import hashlib, io, json, os, shutil, sys, tarfile, tempfile

def relayer(src, dst):
    with tarfile.open(fileobj=src, mode="r|") as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin:
            info.mtime += 1
            tout.addfile(info, tin.extractfile(info) if info.isreg() else None)
    h = hashlib.sha256()
    with open(dst, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def main():
    src, out = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(out)))
    try:
        with tarfile.open(src) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))[0]
            config = json.load(tar.extractfile(manifest["Config"]))
            diffs = []
            for i, name in enumerate(manifest["Layers"]):
                diffs.append(relayer(tar.extractfile(name), os.path.join(work, f"{i}.tar")))
        config["rootfs"]["diff_ids"] = ["sha256:" + d for d in diffs]
        data = json.dumps(config, sort_keys=True).encode()
        cfg = hashlib.sha256(data).hexdigest()
        mf = json.dumps([{"Config": cfg + ".json", "RepoTags": ["realistic:rebuilt"], "Layers": [d + ".tar" for d in diffs]}]).encode()
        with tarfile.open(out, "w") as tar:
            for i, d in enumerate(diffs):
                tar.add(os.path.join(work, f"{i}.tar"), arcname=d + ".tar")
            for name, blob in ((cfg + ".json", data), ("manifest.json", mf)):
                info = tarfile.TarInfo(name)
                info.size = len(blob)
                tar.addfile(info, io.BytesIO(blob))
    finally:
        shutil.rmtree(work)

main()
