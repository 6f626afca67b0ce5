#!/usr/bin/env python3
"""selftest.py -- the peer's checks refuse what validate refuses.

versus.sh runs this before measuring, so a peer that skipped a check (and
so ran faster than an honest one) cannot be measured: an upload signed the
way `sluicectl upload` signs is accepted, and each tampered copy is
refused with validate's reason code.  No broker, no database: messages and
the creators' registry are built here.  Exits non-zero on any difference.
"""
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402


class Msg:
    """The parts of a confluent_kafka.Message the peer reads."""

    def __init__(self, key, value, headers):
        self._k, self._v, self._h = key, value, headers

    def key(self):
        return self._k

    def value(self):
        return self._v

    def headers(self):
        return self._h

    def topic(self):
        return "sluice.uploads"

    def partition(self):
        return 0

    def offset(self):
        return 7


class Registry:
    def __init__(self, recs):
        self.recs = recs

    def get(self, creator_id):
        return self.recs.get(creator_id)


def upload(sk, content=b"hello sample\n", **meta_over):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sha = hashlib.sha256(content).hexdigest()
    meta = {"schema_version": 1, "upload_id": "u-1", "creator_id": "alice",
            "dataset_id": "ds", "content_type": "text/plain; charset=utf-8",
            "license": {"expression": "CC-BY-4.0"}, "created_at": now, "sha256": sha}
    meta.update(meta_over)
    mb = json.dumps(meta, separators=(",", ":")).encode()
    sig = sk.sign(peer.SIG_DOMAIN + sha.encode() + b"\n" + mb)
    return meta["upload_id"].encode(), content, mb, b"ed25519=" + base64.b64encode(sig)


def signed(sk, **meta_over):
    k, v, m, s = upload(sk, **meta_over)
    return Msg(k, v, [("sluice-meta", m), ("sluice-sig", s)])


def main():
    sk, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    reg = Registry({"alice": ("ed25519", sk.public_key(), True, True),
                    "bob": ("ed25519", sk.public_key(), False, True)})
    key, content, meta, sig = upload(sk)
    ok = lambda **o: Msg(o.get("key", key), o.get("value", content),  # noqa: E731
                         o.get("headers", [("sluice-meta", o.get("meta", meta)),
                                           ("sluice-sig", o.get("sig", sig))]))
    old = (datetime.datetime.now(datetime.timezone.utc)
           - datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cases = [
        ("accepted", None, ok()),
        ("content changed", "signature_invalid", ok(value=b"hello sample!\n")),
        ("metadata changed", "signature_invalid", ok(meta=meta.replace(b'"ds"', b'"dt"'))),
        ("another key", "signature_invalid", ok(sig=upload(other)[3])),
        ("no signature", "signature_missing", ok(headers=[("sluice-meta", meta)])),
        ("no metadata", "meta_missing", ok(headers=[("sluice-sig", sig)])),
        ("two metadata headers", "header_reserved",
         ok(headers=[("sluice-meta", meta), ("sluice-meta", meta), ("sluice-sig", sig)])),
        ("a stage's header", "header_reserved",
         ok(headers=[("sluice-meta", meta), ("sluice-sig", sig), ("sluice-prov", b"x")])),
        ("not JSON", "meta_malformed", ok(meta=b"{")),
        ("duplicate member", "meta_malformed", ok(meta=meta[:-1] + b',"dataset_id":"x"}')),
        ("unknown member", "meta_invalid", ok(meta=upload(sk, extra=1)[2])),
        ("key is not the upload id", "key_mismatch", ok(key=b"u-2")),
        ("creator unknown", "creator_unknown", signed(sk, creator_id="carol")),
        ("creator disabled", "creator_disabled", signed(sk, creator_id="bob")),
        ("stale", "stale", signed(sk, created_at=old)),
        ("declared hash wrong", "hash_mismatch", signed(sk, sha256="0" * 64)),
    ]
    bad = 0
    for name, want, msg in cases:
        try:
            row = peer.check(msg, reg)
            got = None if row and row[0] == "u-1" and row[4] == hashlib.sha256(msg.value()).hexdigest() else "?"
        except peer.Refused as r:
            got = r.code
        if got != want:
            bad += 1
            print(f"selftest: {name}: want {want or 'accepted'}, got {got or 'accepted'}", file=sys.stderr)
    print(f"peer selftest: {len(cases) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
