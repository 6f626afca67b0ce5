#!/usr/bin/env python3
"""peer.py -- the plain Python consumer issue #16 measures sluice against.

A straightforward at-least-once consumer of sluice.uploads, the kind a team
would write in an afternoon: confluent-kafka, the `cryptography` package's
Ed25519 and psycopg 3 COPY into PostgreSQL; no intermediate topic, no
provenance, no replay or duplicate protection, no exactly-once.  It makes
the checks sluice's validate stage makes on one upload, in the same order
(services/validate/validate.c):

  headers (count, bytes, no "sluice-*" name but one sluice-meta and at
  most one sluice-sig) -> sizes -> sluice-meta is JSON (duplicate names
  refused) -> its shape (schemas/upload-meta.schema.json, checked by hand:
  the `jsonschema` package took ~650 us a document here, more than
  everything else together, and an afternoon's team would not keep that)
  -> the message key is the upload id -> the creator is registered, active
  and verified -> the Ed25519 signature over the message sluice signs
  (common/src/crypto.c sl_sig_message: "sluice-upload-v1\\n" + the
  content's SHA-256 in lowercase hex + "\\n" + the exact sluice-meta
  bytes) -> created_at within the window -> the declared sha256 is the
  content's.

Per batch (consume() of up to --batch messages): check each message, COPY
the accepted ones into peer.samples and the refused ones into
peer.rejections in one transaction, and only once it has committed,
commit the consumer's offsets (synchronously).  A crash between the two
redelivers the batch: at-least-once, so a sample may be stored twice
(peer.samples has no unique key; COPY could not skip a duplicate).

Creators are read from sluice's own `creators` table (key_alg,
key_material, status, verified) and cached for --creator-cache-s seconds,
as validate caches them.  Only Ed25519 creators are supported: an HMAC
creator's secret is sealed under a key only validate is given.

It runs --processes workers (default: the number of cores), and exits on
SIGTERM or SIGINT.  Worker i of n reads the topic's partitions p with
p % n == i, assigned (not subscribed), from the group's committed
offsets, and commits its offsets under the group: every worker has an
equal share from its first poll.  (With subscribe() the worker that joined
first took every partition until the second joined, and kept the
preloaded topic's lead: splits of 29,070 against 10,930 uploads of 40,000
in tests/bench/README.md, the peer's drain then as slow as its busier
worker.)  Each worker prints one line on exit: accepted, rejected,
batches.

usage: peer.py --kafka-config FILE --dsn CONNINFO [--topic T] [--group G]
               [--processes N] [--batch N]
  FILE: librdkafka properties, one "name=value" a line (bootstrap.servers,
  security.protocol, sasl.*); CONNINFO: a libpq conninfo (passfile=...).
"""
import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

from confluent_kafka import (OFFSET_STORED, Consumer, KafkaError, KafkaException,
                             TopicPartition)
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
import psycopg

SIG_DOMAIN = b"sluice-upload-v1\n"
H_META, H_SIG = "sluice-meta", "sluice-sig"

# validate's defaults (services/validate/validate.c sl_validate_config)
META_MAX = 16 * 1024
CONTENT_MAX = 8 * 1024 * 1024
HEADERS_MAX_BYTES = 64 * 1024
HEADERS_MAX_COUNT = 64
PAST_S = 86400
FUTURE_S = 300


class Refused(Exception):
    """An upload refused: code (validate's reason code) and detail."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


# ---- the metadata's shape: schemas/upload-meta.schema.json by hand ----------

# The schema's patterns, anchored at the very end (Python's "$" also matches
# before a final newline; JSON Schema's does not).
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
CT_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"""( *; *[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*=([A-Za-z0-9!#$%&'*+.^_`|~-]+|"[^"\\]*"))*\Z""")
SHA_RE = re.compile(r"[0-9a-f]{64}\Z")
# RFC 3339 date-time; the calendar is checked by datetime below.
DT_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)\Z")
URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:([A-Za-z0-9._~:/?\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2}|#)*\Z")

TOP_KEYS = {"schema_version", "upload_id", "creator_id", "dataset_id", "content_type",
            "license", "attestation", "created_at", "sha256", "filename", "labels", "size"}
TOP_REQUIRED = ("schema_version", "upload_id", "creator_id", "dataset_id",
                "content_type", "license", "created_at")
LICENSE_KEYS = {"expression", "terms_url", "attribution"}
ATTEST_KEYS = {"version", "rights_holder", "statement", "ai_training",
               "ai_generative_training", "data_mining", "tdm_reservation"}
USAGE = {"allowed", "notAllowed", "constrained"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def need_str(obj, key, where, lo=0, hi=None, pattern=None):
    v = obj[key]
    if not isinstance(v, str):
        raise Refused("meta_invalid", f"{where}/{key}: not a string")
    if len(v) < lo or (hi is not None and len(v) > hi):
        raise Refused("meta_invalid", f"{where}/{key}: length {len(v)} outside {lo}..{hi}")
    if pattern is not None and not pattern.match(v):
        raise Refused("meta_invalid", f"{where}/{key}: does not match the schema's pattern")
    return v


def parse_time(s):
    """created_at as an aware datetime, or None if not an RFC 3339 date-time."""
    m = DT_RE.match(s)
    if not m:
        return None
    try:
        return datetime.datetime.fromisoformat(s.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def check_shape(doc):
    if not isinstance(doc, dict):
        raise Refused("meta_invalid", "sluice-meta is not an object")
    extra = doc.keys() - TOP_KEYS
    if extra:
        raise Refused("meta_invalid", f"unknown member {sorted(extra)[0]!r}")
    for k in TOP_REQUIRED:
        if k not in doc:
            raise Refused("meta_invalid", f"missing member {k!r}")
    v = doc["schema_version"]
    if not is_int(v) or v != 1:
        raise Refused("meta_invalid", "/schema_version: must be 1")
    for k in ("upload_id", "creator_id", "dataset_id"):
        need_str(doc, k, "", 1, 128, ID_RE)
    need_str(doc, "content_type", "", 3, 255, CT_RE)
    lic = doc["license"]
    if not isinstance(lic, dict):
        raise Refused("meta_invalid", "/license: not an object")
    if lic.keys() - LICENSE_KEYS or "expression" not in lic:
        raise Refused("meta_invalid", "/license: unknown or missing members")
    need_str(lic, "expression", "/license", 1, 512)
    if "terms_url" in lic:
        need_str(lic, "terms_url", "/license", 0, 2048, URI_RE)
    if "attribution" in lic:
        need_str(lic, "attribution", "/license", 0, 2048)
    if "attestation" in doc:
        a = doc["attestation"]
        if not isinstance(a, dict):
            raise Refused("meta_invalid", "/attestation: not an object")
        if a.keys() - ATTEST_KEYS or "version" not in a or "rights_holder" not in a:
            raise Refused("meta_invalid", "/attestation: unknown or missing members")
        if not is_int(a["version"]) or a["version"] < 1:
            raise Refused("meta_invalid", "/attestation/version: not an integer >= 1")
        for k in ("rights_holder", "tdm_reservation"):
            if k in a and not isinstance(a[k], bool):
                raise Refused("meta_invalid", f"/attestation/{k}: not a boolean")
        if "statement" in a:
            need_str(a, "statement", "/attestation", 0, 2048)
        for k in ("ai_training", "ai_generative_training", "data_mining"):
            if k in a and a[k] not in USAGE:
                raise Refused("meta_invalid", f"/attestation/{k}: not a permitted use")
    created = need_str(doc, "created_at", "", 0, 64)
    if parse_time(created) is None:
        raise Refused("meta_invalid", "/created_at: not an RFC 3339 date-time")
    if "sha256" in doc:
        need_str(doc, "sha256", "", 0, None, SHA_RE)
    if "filename" in doc:
        need_str(doc, "filename", "", 1, 255)
    if "labels" in doc:
        labels = doc["labels"]
        if not isinstance(labels, dict):
            raise Refused("meta_invalid", "/labels: not an object")
        for k in labels:
            need_str(labels, k, "/labels", 0, 256)
    if "size" in doc and (not is_int(doc["size"]) or doc["size"] < 0):
        raise Refused("meta_invalid", "/size: not an integer >= 0")


def no_duplicates(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("duplicate member name")
    return d


# ---- creators ----------------------------------------------------------------

class Creators:
    """sluice's creators table, each record cached for ttl seconds."""

    def __init__(self, conn, ttl):
        self.conn, self.ttl, self.cache = conn, ttl, {}

    def get(self, creator_id):
        now = time.monotonic()
        hit = self.cache.get(creator_id)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        row = self.conn.execute(
            "SELECT key_alg, key_material, status = 'active', verified "
            "FROM public.creators WHERE creator_id = %s", (creator_id,)).fetchone()
        self.conn.commit()
        rec = None
        if row:
            key = None
            if row[0] == "ed25519" and len(row[1]) == 32:
                key = Ed25519PublicKey.from_public_bytes(bytes(row[1]))
            rec = (row[0], key, row[2], row[3])
        self.cache[creator_id] = (now, rec)
        return rec


# ---- one upload --------------------------------------------------------------

def check(msg, creators):
    """Returns the samples row of an accepted upload; raises Refused."""
    headers = msg.headers() or []
    if len(headers) > HEADERS_MAX_COUNT:
        raise Refused("headers_too_large", f"{len(headers)} headers")
    if sum(len(k) + len(v or b"") for k, v in headers) > HEADERS_MAX_BYTES:
        raise Refused("headers_too_large", "headers too large")
    meta = sig = None
    for k, v in headers:
        if not k.lower().startswith("sluice-"):
            continue
        if k == H_META and meta is None:
            meta = v or b""
        elif k == H_SIG and sig is None:
            sig = v or b""
        else:
            raise Refused("header_reserved", f"header {k!r} is reserved or repeated")
    value = msg.value() or b""
    if len(value) > CONTENT_MAX:
        raise Refused("too_large", f"content is {len(value)} bytes")
    if meta is None:
        raise Refused("meta_missing", "no sluice-meta header")
    if len(meta) > META_MAX:
        raise Refused("too_large", f"sluice-meta is {len(meta)} bytes")
    try:
        doc = json.loads(meta.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused("meta_malformed", f"sluice-meta is not valid JSON: {e}")
    check_shape(doc)
    upload_id = doc["upload_id"]
    if (msg.key() or b"") != upload_id.encode():
        raise Refused("key_mismatch", f"the message key must be the upload id {upload_id!r}")

    creator = creators.get(doc["creator_id"])
    if creator is None:
        raise Refused("creator_unknown", f"creator {doc['creator_id']!r} is not registered")
    alg, key, active, verified = creator
    if not active:
        raise Refused("creator_disabled", "creator is disabled")
    if not verified:
        raise Refused("creator_unverified", "creator is not verified")
    if sig is None:
        raise Refused("signature_missing", "no sluice-sig header")
    if not sig.startswith(b"ed25519="):
        raise Refused("signature_invalid", "sluice-sig is not \"ed25519=<base64>\"")
    try:
        sigbytes = base64.b64decode(sig[8:], validate=True)
    except binascii.Error:
        sigbytes = b""
    if len(sigbytes) != 64:
        raise Refused("signature_invalid", "sluice-sig is not \"ed25519=<base64>\"")
    if alg != "ed25519" or key is None:
        raise Refused("signature_invalid", f"creator signs with {alg}, not ed25519")
    sha = hashlib.sha256(value).hexdigest()
    try:
        key.verify(sigbytes, SIG_DOMAIN + sha.encode() + b"\n" + meta)
    except InvalidSignature:
        raise Refused("signature_invalid", "the ed25519 signature does not match")

    created = parse_time(doc["created_at"])
    now = datetime.datetime.now(datetime.timezone.utc)
    if not (now - datetime.timedelta(seconds=PAST_S) <= created
            <= now + datetime.timedelta(seconds=FUTURE_S)):
        raise Refused("stale", f"created_at {doc['created_at']} is outside the window")
    if "sha256" in doc and doc["sha256"] != sha:
        raise Refused("hash_mismatch", f"declared sha256 {doc['sha256']}, content hashes to {sha}")
    return (upload_id, doc["creator_id"], doc["dataset_id"], doc["content_type"], sha,
            len(value), doc["license"]["expression"], doc.get("filename"),
            meta.decode("utf-8"), sig.decode("ascii"), created, value,
            msg.topic(), msg.partition(), msg.offset())


# ---- the worker --------------------------------------------------------------

SAMPLE_COLS = ("upload_id, creator_id, dataset_id, content_type, sha256, size, "
               "license_expression, filename, meta, signature, created_at, content, "
               "source_topic, source_partition, source_offset")
REJECT_COLS = "upload_id, code, detail, source_topic, source_partition, source_offset"


def read_properties(path):
    conf = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                conf[k.strip()] = v.strip()
    return conf


def worker(args):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    conf = read_properties(args.kafka_config)
    conf.update({"group.id": args.group, "enable.auto.commit": False,
                 "auto.offset.reset": "earliest", "client.id": f"peer-{os.getpid()}"})
    consumer = Consumer(conf)
    parts = consumer.list_topics(args.topic, timeout=30).topics[args.topic]
    if parts.error is not None:
        raise KafkaException(parts.error)
    mine = [TopicPartition(args.topic, p, OFFSET_STORED) for p in sorted(parts.partitions)
            if p % args.workers == args.index]
    consumer.assign(mine)
    conn = psycopg.connect(args.dsn)
    creators = Creators(conn, args.creator_cache_s)
    accepted = rejected = batches = 0
    try:
        while not stop:
            msgs = consumer.consume(num_messages=args.batch, timeout=0.5)
            if not msgs:
                continue
            rows, refusals = [], []
            for m in msgs:
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(m.error())
                try:
                    rows.append(check(m, creators))
                except Refused as r:
                    key = m.key()
                    refusals.append((key.decode("utf-8", "replace") if key else None,
                                     r.code, r.detail, m.topic(), m.partition(), m.offset()))
            with conn.transaction():
                with conn.cursor() as cur:
                    if rows:
                        with cur.copy(f"COPY peer.samples ({SAMPLE_COLS}) FROM STDIN") as cp:
                            for row in rows:
                                cp.write_row(row)
                    if refusals:
                        with cur.copy(f"COPY peer.rejections ({REJECT_COLS}) FROM STDIN") as cp:
                            for row in refusals:
                                cp.write_row(row)
            # The rows are durable: now the offsets (at-least-once): a
            # crash before this line redelivers the batch, stored twice.
            ends = {}
            for m in msgs:
                if not m.error():
                    ends[(m.topic(), m.partition())] = m.offset() + 1
            try:
                consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in ends.items()],
                                asynchronous=False)
            except KafkaException as e:
                print(f"peer {os.getpid()}: offsets not committed ({e}); the batch may "
                      f"be redelivered", file=sys.stderr, flush=True)
            accepted += len(rows)
            rejected += len(refusals)
            batches += 1
    finally:
        consumer.close()
        conn.close()
        print(f"peer {os.getpid()}: accepted {accepted}, rejected {rejected}, "
              f"batches {batches}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kafka-config", required=True)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--topic", default="sluice.uploads")
    ap.add_argument("--group", default="sluice-peer")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--creator-cache-s", type=float, default=5.0)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0
    # The parent only starts the workers and hands a signal on.
    n = max(1, args.processes)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--workers", str(n)] + sys.argv[1:]
    kids = [subprocess.Popen(cmd + ["--index", str(i)]) for i in range(n)]

    def forward(signum, _frame):
        for k in kids:
            if k.poll() is None:
                k.send_signal(signum)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    rc = 0
    for k in kids:
        rc = max(rc, k.wait())
    return rc


if __name__ == "__main__":
    sys.exit(main())
