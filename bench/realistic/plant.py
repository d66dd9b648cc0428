#!/usr/bin/env python3
"""Write the leaks planted in the realistic image, and their answer key.

usage: plant.py DIR KEY.json

The tokens are fake, random but fixed by the seed, in the formats real
tokens have.
"""
import base64, json, os, random, string, sys

rng = random.Random(20261122)
alnum = string.ascii_letters + string.digits

def tok(prefix, n, alphabet=alnum):
    return prefix + "".join(rng.choice(alphabet) for _ in range(n))

npm, npm2 = tok("npm_", 36), tok("npm_", 36)
ghp = tok("ghp_", 36)
akia, aws_secret = tok("AKIA", 16, string.ascii_uppercase + "234567"), tok("", 40)
pg, apt, reg = tok("Pg-", 18), tok("apt-", 20), tok("reg-", 20)

files = {
    "srv/app/.npmrc": f"//registry.npmjs.org/:_authToken={npm}\n",
    "srv/app/config/database.js": f'module.exports = {{ url: "postgres://app:{pg}@db.internal:5432/app" }};\n',
    "root/.aws/credentials": f"[default]\naws_access_key_id = {akia}\naws_secret_access_key = {aws_secret}\n",
    "srv/app/node_modules/@acme/private-lib/index.js": f"module.exports = {{ token: '{ghp}' }};\n",
    "srv/app/node_modules/@acme/private-lib/.npmrc": f"//registry.npmjs.org/:_authToken={npm2}\n",
    "etc/apt/auth.conf.d/acme.conf": f"machine apt.acme.example/debian\nlogin ci\npassword {apt}\n",
    "root/.docker/config.json": json.dumps({"auths": {"registry.acme.example": {"auth": base64.b64encode(f"deploy:{reg}".encode()).decode()}}}, indent=2) + "\n",
}
key = [
    {"path": "srv/app/.npmrc", "rule_id": "npm-access-token"},
    {"path": "srv/app/config/database.js", "rule_id": "url-credentials"},
    {"path": "root/.aws/credentials", "rule_id": "aws-access-token"},
    {"path": "root/.aws/credentials", "rule_id": "aws-credentials-file"},
    {"path": "srv/app/node_modules/@acme/private-lib/index.js", "rule_id": "github-pat"},
    {"path": "srv/app/node_modules/@acme/private-lib/.npmrc", "rule_id": "npm-access-token"},
    {"path": "etc/apt/auth.conf.d/acme.conf", "rule_id": "netrc-password"},
    {"path": "root/.docker/config.json", "rule_id": "docker-config-auth"},
]

out, keyfile = sys.argv[1], sys.argv[2]
for path, content in files.items():
    full = os.path.join(out, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(content)
with open(keyfile, "w") as f:
    json.dump(key, f, indent=2)
