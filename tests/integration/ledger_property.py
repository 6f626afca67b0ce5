#!/usr/bin/env python3
"""ledger_property.py -- the property-style driver of test_ledger_property.sh
(issue #13): a seeded random sequence of deliveries, withdrawals (under each
dataset's policy: kept, refund, clawback), months passing, payout runs,
confirms and fails (and second attempts, which must be refused), checked
after every step against the ledger's invariants and an independent model.

After each step, once the poster has caught up (every usage event posted,
every withdrawal applied):
  - `sluicectl ledger verify` exits 0 (when --verify);
  - per currency debits = credits, posted and pending; every account's
    totals = the sums of its transfers (SQL, independent of verify);
  - every usage event has exactly one posting;
  - every creator's, consumer's and the platform's balances equal the
    model's (split computed here: floor(P(10000-f)/10000), floor(Pf/10000),
    remainder), and a creator is below zero only after a clawback;
  - creators' statements for this month and the last balance (exit 0) and
    close at the model's balance for that month's end (every creator's each
    8th step and at the end, one creator's otherwise);
  - a payout run creates exactly the payouts the model expects.
The seed is printed first and on any failure: rerun with --seed to
reproduce.  Exit 0 when every step held, 1 with the failing step otherwise.

Runs psql as the schema owner (IT_OWNER_DSN) for what the feed writes and
sluicectl (SLUICE_PG_DSN) for what an operator does; the poster is the real
sluice-ledger, started by the test.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

OWNER = os.environ["IT_OWNER_DSN"]
CTL = os.environ["SLUICECTL"]
FEE_DEFAULT = 1000
CREATORS = ["c1", "c2", "c3", "c4"]
CONSUMERS = ["k1", "k2", "k3"]
# dataset -> (withdrawal policy, fee bps or None for the default)
DATASETS = {"dk": ("kept", None), "dr": ("refund", 2500), "dc": ("clawback", 333)}
PRICES = [0, 1, 7, 15, 999, 1000000, 2500001]


class Fail(Exception):
    pass


def sql(q):
    r = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", OWNER, "-c", q],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Fail("psql: %s\n%s" % (r.stderr.strip(), q))
    return r.stdout.strip()


def ctl(*args, ok=True):
    r = subprocess.run([CTL] + list(args), capture_output=True, text=True)
    if ok and r.returncode != 0:
        raise Fail("sluicectl %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                   r.stderr.strip()))
    return r


def split(price, bps):
    net = price * (10000 - bps) // 10000
    fee = price * bps // 10000
    return net, fee, price - net - fee


class Model:
    """What every balance must be, computed from the steps alone."""

    def __init__(self, rng):
        self.uploads = {}          # upload -> (creator, dataset)
        for i in range(24):
            self.uploads["u%02d" % i] = (rng.choice(CREATORS), rng.choice(list(DATASETS)))
        self.price = {(k, d): rng.choice(PRICES) for k in CONSUMERS for d in DATASETS}
        self.used = {}             # (consumer, upload) -> (net, fee, rounding, price)
        self.withdrawn = set()
        # creator -> list of [age_in_months, amount]: posted non-payout moves
        self.moves = {c: [] for c in CREATORS}
        self.clawed = set()        # creators a clawback touched
        self.consumer = {k: 0 for k in CONSUMERS}
        self.platform = 0
        self.rounding = 0
        self.payouts = {}          # id -> dict(creator, amount, state, age)

    def creator_posted(self, c, min_age=0):
        return sum(a for age, a in self.moves[c] if age >= min_age)

    def paid_out(self, c, states):
        return sum(p["amount"] for p in self.payouts.values()
                   if p["creator"] == c and p["state"] in states)

    def balance(self, c):
        """(posted, pending debits) of creator c now."""
        return (self.creator_posted(c) - self.paid_out(c, ("confirmed",)),
                self.paid_out(c, ("pending",)))


def wait_posted(timeout=30):
    t0 = time.time()
    while True:
        left = sql("SELECT (SELECT count(*) FROM usage_events) - (SELECT count(*) FROM ledger_postings),"
                   " (SELECT count(*) FROM feed_changes) - (SELECT count(*) FROM ledger_withdrawals)")
        if left == "0|0":
            return
        if time.time() - t0 > timeout:
            raise Fail("the poster did not catch up in %ds (unposted usage|changes: %s)"
                       % (timeout, left))
        time.sleep(0.05)


INVARIANTS = """
SELECT 'currency ' || currency || ' does not balance' FROM ledger_accounts GROUP BY currency
HAVING sum(debits_posted) <> sum(credits_posted) OR sum(debits_pending) <> sum(credits_pending)
UNION ALL
SELECT 'account ' || a.account_id || ' totals differ from its transfers' FROM ledger_accounts a
LEFT JOIN LATERAL (SELECT
  coalesce(sum(t.amount) FILTER (WHERE t.debit_account = a.account_id AND NOT t.pending
                                   AND t.kind <> 'payout_void'), 0) AS dp,
  coalesce(sum(t.amount) FILTER (WHERE t.credit_account = a.account_id AND NOT t.pending
                                   AND t.kind <> 'payout_void'), 0) AS cp,
  coalesce(sum(t.amount) FILTER (WHERE t.debit_account = a.account_id AND t.pending
     AND NOT EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = t.transfer_id)), 0) AS dq,
  coalesce(sum(t.amount) FILTER (WHERE t.credit_account = a.account_id AND t.pending
     AND NOT EXISTS (SELECT 1 FROM ledger_transfers s WHERE s.pending_id = t.transfer_id)), 0) AS cq
  FROM ledger_transfers t WHERE t.debit_account = a.account_id OR t.credit_account = a.account_id) x ON true
WHERE (x.dp, x.cp, x.dq, x.cq) IS DISTINCT FROM
      (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
UNION ALL
SELECT 'usage ' || e.usage_id || ' has ' || count(p.usage_id) || ' postings'
  FROM usage_events e LEFT JOIN ledger_postings p ON p.usage_id = e.usage_id
 GROUP BY e.usage_id HAVING count(p.usage_id) <> 1
"""


def check(m, verify, months, who):
    wait_posted()
    if verify:
        r = ctl("ledger", "verify", ok=False)
        if r.returncode != 0:
            raise Fail("ledger verify: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    bad = sql(INVARIANTS)
    if bad:
        raise Fail("invariants: " + bad)
    rows = sql("SELECT kind || ' ' || holder || ' ' || (credits_posted - debits_posted) || ' '"
               " || debits_pending FROM ledger_accounts ORDER BY account_id")
    got = {}
    for line in rows.splitlines():
        kind, holder, posted, pending = line.split(" ")
        got[(kind, holder)] = (int(posted), int(pending))
    for c in CREATORS:
        want = m.balance(c)
        have = got.get(("creator", c), (0, 0))
        if have != want:
            raise Fail("creator %s: ledger (posted, pending) %s, model %s" % (c, have, want))
        if want[0] - want[1] < 0 and c not in m.clawed:
            raise Fail("creator %s below zero without a clawback: %s" % (c, want))
    for k in CONSUMERS:
        if got.get(("consumer", k), (0, 0))[0] != m.consumer[k]:
            raise Fail("consumer %s: ledger %s, model %d" % (k, got.get(("consumer", k)), m.consumer[k]))
    if got.get(("platform", ""), (0, 0))[0] != m.platform:
        raise Fail("platform: ledger %s, model %d" % (got.get(("platform", "")), m.platform))
    if got.get(("rounding", ""), (0, 0))[0] != m.rounding:
        raise Fail("rounding: ledger %s, model %d" % (got.get(("rounding", "")), m.rounding))
    for c in who:
        for age, month in enumerate(months):
            r = ctl("ledger", "statement", "--creator", c, "--month", month, "--json", ok=False)
            if r.returncode != 0:
                raise Fail("statement %s %s: exit %d: %s" % (c, month, r.returncode, r.stderr.strip()))
            s = json.loads(r.stdout)
            # the balance at that month's end: moves and confirmed payouts
            # settled by then (a payout is settled in the month it is).
            want = sum(a for a_age, a in m.moves[c] if a_age >= age) - sum(
                p["amount"] for p in m.payouts.values()
                if p["creator"] == c and p["state"] == "confirmed" and p["settled_age"] >= age)
            if s["closing_micros"] != want or not s["balanced"]:
                raise Fail("statement %s %s: closing %d, model %d" % (c, month, s["closing_micros"], want))


def months_now():
    cur, prev = sql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM') || ' ' ||"
                    " to_char((now() AT TIME ZONE 'UTC') - interval '1 month', 'YYYY-MM')").split()
    return [cur, prev]


def step_deliver(m, rng, log):
    n = rng.randint(1, 6)
    vals = []
    for _ in range(n):
        k = rng.choice(CONSUMERS)
        live = [u for u in m.uploads if u not in m.withdrawn]
        if not live:
            break
        u = rng.choice(live)
        c, d = m.uploads[u]
        p = m.price[(k, d)]
        vals.append("('%s', '%s', '%s', '%s', %d)" % (k, u, c, d, p))
        if (k, u) in m.used:
            continue           # a second delivery is not charged
        net, fee, rnd = split(p, DATASETS[d][1] if DATASETS[d][1] is not None else FEE_DEFAULT)
        m.used[(k, u)] = (net, fee, rnd, p)
        if net:
            m.moves[c].append([0, net])
        m.consumer[k] -= p
        m.platform += fee
        m.rounding += rnd
    if not vals:
        return
    sql("INSERT INTO usage_events (consumer_id, upload_id, creator_id, dataset_id, grant_id,"
        " price_micros, currency, route)"
        " SELECT v.k, v.u, v.c, v.d, g.grant_id, v.p, 'USD', 'token' FROM (VALUES %s) v(k, u, c, d, p)"
        " JOIN grants g ON g.consumer_id = v.k AND g.dataset_id = v.d AND g.revoked_at IS NULL"
        " ON CONFLICT (consumer_id, upload_id) DO NOTHING;"
        " SELECT pg_notify('sluice_usage', '')" % ", ".join(vals))
    log("deliver %s" % " ".join(v.split(",")[0].strip("('") + ":" + v.split(",")[1].strip(" '")
                                for v in vals))


def step_withdraw(m, rng, log):
    live = [u for u in m.uploads if u not in m.withdrawn]
    if not live:
        return
    u = rng.choice(live)
    c, d = m.uploads[u]
    pol = DATASETS[d][0]
    m.withdrawn.add(u)
    for (k, uu), (net, fee, rnd, p) in m.used.items():
        if uu != u:
            continue
        if pol == "refund":
            m.platform -= p
            m.consumer[k] += p
        elif pol == "clawback":
            if net:
                m.moves[c].append([0, -net])
                m.clawed.add(c)
            m.platform -= fee
            m.rounding -= rnd
            m.consumer[k] += p
    sql("WITH s AS (UPDATE feed_clock SET next_seq = next_seq + 1 WHERE stream = 'changes'"
        " RETURNING next_seq - 1 AS seq)"
        " INSERT INTO feed_changes (seq, dataset_id, upload_id, sha256, kind, reason)"
        " SELECT s.seq, '%s', '%s', repeat('b', 64), 'takedown', 'property' FROM s;"
        " SELECT pg_notify('sluice_feed', 'changes')" % (d, u))
    log("withdraw %s (%s, %s)" % (u, d, pol))


def step_month(m, rng, log):
    """A month passes: the ledger's history moves one month back."""
    sql("UPDATE ledger_transfers SET posted_at = posted_at - interval '1 month';"
        " UPDATE ledger_postings SET posted_at = posted_at - interval '1 month';"
        " UPDATE usage_events SET delivered_at = delivered_at - interval '1 month';"
        # Two steps, so no row passes through another's (creator,
        # currency, month) on the way: a single UPDATE checks the unique
        # key row by row and failed when a creator had payouts in two
        # consecutive months and the later row moved first.
        " UPDATE payouts SET month = month - interval '1200 months';"
        " UPDATE payouts SET month = month + interval '1199 months',"
        "   created_at = created_at - interval '1 month',"
        "   settled_at = settled_at - interval '1 month'")
    for c in CREATORS:
        for mv in m.moves[c]:
            mv[0] += 1
    for p in m.payouts.values():
        p["age"] += 1
        if p["settled_age"] >= 0:
            p["settled_age"] += 1
    log("a month passes")


def step_run(m, rng, log, months):
    mn = rng.choice([0, 0, 1, 500000, 2000000])
    due = {}
    for c in CREATORS:
        if any(p["creator"] == c and p["age"] == 1 for p in m.payouts.values()):
            continue
        owed = m.creator_posted(c, 1) - m.paid_out(c, ("pending", "confirmed"))
        posted, pending = m.balance(c)
        amount = min(owed, posted - pending)
        if amount > 0 and amount >= mn:
            due[c] = amount
    args = ["payout", "run", "--month", months[1]]
    if mn:
        args += ["--min", "%d.%06d" % (mn // 1000000, mn % 1000000)]
    out = ctl(*args).stdout
    made = {}
    for line in out.splitlines():
        if line.startswith("payout "):
            # payout N: creator C, MONTH, USD A.AAAAAA pending
            pid = int(line.split()[1].rstrip(":"))
            c = line.split()[3].rstrip(",")
            units, frac = line.split()[6].split(".")
            made[c] = (pid, int(units) * 1000000 + int(frac))
    if {c: a for c, (_, a) in made.items()} != due:
        raise Fail("payout run --min %d: made %s, model %s" % (mn, made, due))
    for c, (pid, a) in made.items():
        m.payouts[pid] = {"creator": c, "amount": a, "state": "pending", "age": 1,
                          "settled_age": -1}
    log("payout run --min %d: %s" % (mn, made))


def step_settle(m, rng, log):
    if not m.payouts:
        return
    pid = rng.choice(sorted(m.payouts))
    p = m.payouts[pid]
    confirm = rng.random() < 0.6
    args = (["payout", "confirm", str(pid), "--reference", "ref-%d" % pid] if confirm
            else ["payout", "fail", str(pid), "--reason", "bounced %d" % pid])
    r = ctl(*args, ok=False)
    if p["state"] != "pending":
        if r.returncode != 1 or "once only" not in r.stderr:
            raise Fail("a second settlement of payout %d (%s) was not refused: exit %d %s"
                       % (pid, p["state"], r.returncode, r.stderr.strip()))
        log("%s %d again: refused" % (args[1], pid))
        return
    if r.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    p["state"] = "confirmed" if confirm else "failed"
    p["settled_age"] = 0
    log("%s %d" % (args[1], pid))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("-v", action="store_true", help="print each step")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 31)
    print("ledger property: seed %d (rerun with --seed %d)" % (seed, seed), flush=True)
    rng = random.Random(seed)
    m = Model(rng)
    trail = []
    i = 0

    def log(s):
        trail.append("%d: %s" % (i, s))
        if a.v:
            print(trail[-1], flush=True)

    sql("INSERT INTO creators (creator_id, key_alg, key_material) SELECT c, 'ed25519', '\\x00'"
        " FROM unnest(ARRAY[%s]) c;" % ",".join("'%s'" % c for c in CREATORS) +
        " INSERT INTO consumers (consumer_id) SELECT unnest(ARRAY[%s]);"
        % ",".join("'%s'" % k for k in CONSUMERS) +
        " INSERT INTO datasets (dataset_id) SELECT unnest(ARRAY[%s]);"
        % ",".join("'%s'" % d for d in DATASETS) +
        " INSERT INTO grants (consumer_id, dataset_id, price_micros, created_by) VALUES %s"
        % ", ".join("('%s', '%s', %d, 'property')" % (k, d, p) for (k, d), p in m.price.items()))
    for d, (pol, fee) in DATASETS.items():
        ctl("dataset", "set", d, "--withdrawal-policy", pol, "--fee-bps",
            str(fee) if fee is not None else "default")

    steps = [(step_deliver, 30), (step_withdraw, 12), (step_month, 10), (step_run, 18),
             (step_settle, 30)]
    try:
        months = months_now()
        for i in range(1, a.steps + 1):
            # weights that keep each step meaningful: deliveries first,
            # runs once a month has passed, settlements once payouts exist
            w = dict(steps)
            if not any(mv[0] for c in CREATORS for mv in m.moves[c]):
                w[step_run] = 2
            if not m.payouts:
                w.pop(step_settle, None)
            if i <= 3:
                w = {step_deliver: 1}
            fn = rng.choices(list(w), list(w.values()))[0]
            if fn is step_run:
                fn(m, rng, log, months)
            else:
                fn(m, rng, log)
            # every creator's statements each 8th step and at the end, one
            # creator's otherwise (each is a process: the test stays short)
            full = i % 8 == 0 or i == a.steps
            check(m, a.verify, months, CREATORS if full else [rng.choice(CREATORS)])
        print("ledger property: %d steps held (seed %d): %d usage events, %d withdrawals, "
              "%d payouts (%d confirmed, %d failed)" % (
                  a.steps, seed, len(m.used), len(m.withdrawn), len(m.payouts),
                  sum(p["state"] == "confirmed" for p in m.payouts.values()),
                  sum(p["state"] == "failed" for p in m.payouts.values())))
        return 0
    except Fail as e:
        print("ledger property: FAILED at step %d with seed %d (rerun with --seed %d)\n"
              "steps so far:\n  %s\n%s" % (i, seed, seed, "\n  ".join(trail), e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
