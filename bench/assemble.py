#!/usr/bin/env python3
"""Assemble a docker save archive (classic layout) from directory trees.

usage: assemble.py OUT.tar TAG DIR[:PREFIX]... 

Each DIR becomes one uncompressed layer, its files placed under PREFIX.
Entries are sorted, owned by root and dated 1970, so the same trees give
the same archive.
"""
import hashlib, io, json, os, sys, tarfile

def layer(path, src, prefix):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                full = os.path.join(root, name)
                arc = os.path.join(prefix, os.path.relpath(full, src))
                info = tar.gettarinfo(full, arcname=arc)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isreg():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                elif info.isdir() or info.issym() or info.islnk():
                    tar.addfile(info)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def main():
    out, tag, trees = sys.argv[1], sys.argv[2], sys.argv[3:]
    work = out + ".parts"
    os.makedirs(work, exist_ok=True)
    diffs, history = [], []
    for i, tree in enumerate(trees):
        src, _, prefix = tree.partition(":")
        part = os.path.join(work, f"layer{i}.tar")
        diffs.append(layer(part, src, prefix))
        history.append({"created": "1970-01-01T00:00:00Z", "created_by": f"COPY {os.path.basename(src.rstrip('/'))} /{prefix} # buildkit"})
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"], "WorkingDir": "/srv/app", "Cmd": ["node", "server.js"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diffs]},
        "history": history,
    }, sort_keys=True).encode()
    cfg = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": cfg + ".json", "RepoTags": [tag], "Layers": [d + ".tar" for d in diffs]}]).encode()
    with tarfile.open(out, "w") as tar:
        for i, d in enumerate(diffs):
            tar.add(os.path.join(work, f"layer{i}.tar"), arcname=d + ".tar")
        for name, data in ((cfg + ".json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    for i in range(len(diffs)):
        os.remove(os.path.join(work, f"layer{i}.tar"))
    os.rmdir(work)

main()
