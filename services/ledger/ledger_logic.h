/*
 * ledger_logic.h -- the pure rules of the ledger's postings (issue #13),
 * library sl_ledger_logic: no I/O, sl_core only, unit-tested
 * (tests/unit/test_ledger_logic.c).  The poster (ledger_pg.c) and
 * `sluicectl ledger verify` (cmd_ledger_verify.c) both go through it, so
 * the split, the ids and the hashed form of a transfer have one home.
 *
 *   - The split of a usage event at price P with fee f basis points
 *     (018_ledger.sql): net = floor(P * (10000 - f) / 10000) to the
 *     creator, fee = floor(P * f / 10000) to the platform, rounding =
 *     P - net - fee (0 or 1 micro-unit) to the rounding account.  Computed
 *     without an intermediate product, so any int64 price is exact.
 *   - Ids derived from what is recorded, so posting twice is a unique-key
 *     no-op: link "usage:<usage_id>", legs "usage:<usage_id>:net" (kind
 *     charge), ":fee", ":rounding"; a withdrawal's reversal of a leg is the
 *     leg's id + ":refund" or ":clawback", linked as "change:<seq>".
 *   - Reversal legs per withdrawal policy: kept moves nothing; refund: the
 *     platform pays the consumer back every leg (the creator keeps the
 *     net); clawback: each leg's credit account pays it back.
 *   - The canonical line of a transfer, hashed in transfer_id order by
 *     `ledger verify`: no seq, no timestamp, no account_id (they differ
 *     between a database and its replay), accounts named by kind:holder.
 *
 * Legs with amount 0 are never produced (ledger_transfers.amount > 0).
 */
#ifndef SL_LEDGER_LOGIC_H
#define SL_LEDGER_LOGIC_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

#define SL_LEDGER_BPS_MAX 10000
/* Room for every id this file derives ("usage:<int64>:rounding:clawback"). */
#define SL_LEDGER_ID_MAX 64

typedef enum sl_ledger_acct {
    SL_ACCT_CONSUMER = 0,
    SL_ACCT_CREATOR,
    SL_ACCT_PLATFORM,
    SL_ACCT_PAYOUTS,          /* payouts_in_transit */
    SL_ACCT_ROUNDING
} sl_ledger_acct;

/* "consumer", "creator", "platform", "payouts_in_transit", "rounding". */
const char *sl_ledger_acct_name(sl_ledger_acct a);
/* Whether the account kind may go below zero (018: consumers, platform,
 * rounding yes; creators and payouts in transit no). */
int sl_ledger_acct_allow_negative(sl_ledger_acct a);

typedef enum sl_ledger_kind {
    SL_XFER_CHARGE = 0, SL_XFER_FEE, SL_XFER_ROUNDING, SL_XFER_REFUND,
    SL_XFER_CLAWBACK, SL_XFER_PAYOUT, SL_XFER_PAYOUT_POST, SL_XFER_PAYOUT_VOID
} sl_ledger_kind;

/* ledger_transfers.kind: "charge", "fee", ... "payout_void". */
const char *sl_ledger_kind_name(sl_ledger_kind k);

typedef enum sl_ledger_policy {
    SL_POLICY_KEPT = 0, SL_POLICY_REFUND, SL_POLICY_CLAWBACK
} sl_ledger_policy;

const char *sl_ledger_policy_name(sl_ledger_policy p);
/* "kept" / "refund" / "clawback"; SL_EINVAL otherwise. */
int sl_ledger_policy_parse(const char *s, sl_ledger_policy *out);

typedef struct sl_ledger_split {
    int64_t net;        /* to the creator */
    int64_t fee;        /* to the platform */
    int64_t rounding;   /* to the rounding account: 0 or 1 */
} sl_ledger_split;

/* Splits price (>= 0) at fee_bps (0..10000).  SL_OK or SL_EINVAL. */
int sl_ledger_split_price(int64_t price, int fee_bps, sl_ledger_split *out);

/* One transfer to insert, the accounts named by kind (the holder of a
 * consumer or creator account is the usage event's). */
typedef struct sl_ledger_leg {
    sl_ledger_kind kind;
    sl_ledger_acct debit;
    sl_ledger_acct credit;
    int64_t amount;                         /* > 0 */
    char transfer_id[SL_LEDGER_ID_MAX];
    char reverses[SL_LEDGER_ID_MAX];        /* "" when none */
} sl_ledger_leg;

/* "usage:<usage_id>" and "change:<seq>". */
void sl_ledger_usage_link(int64_t usage_id, char out[SL_LEDGER_ID_MAX]);
void sl_ledger_change_link(int64_t change_seq, char out[SL_LEDGER_ID_MAX]);

/* The legs posting a usage event split as s: charge (consumer -> creator,
 * the net), fee (consumer -> platform), rounding (consumer -> rounding),
 * those with a non-zero amount, in that order.  Returns how many (0..3). */
size_t sl_ledger_usage_legs(int64_t usage_id, const sl_ledger_split *s,
                            sl_ledger_leg out[3]);

/* The legs reversing that posting under policy p (0 for kept), one per
 * non-zero leg, each naming the leg it reverses.  Returns how many. */
size_t sl_ledger_reversal_legs(int64_t usage_id, const sl_ledger_split *s,
                               sl_ledger_policy p, sl_ledger_leg out[3]);

/* A stored transfer as `ledger verify` reads it (NULL: SQL NULL; usage_id
 * and payout_id < 0: NULL). */
typedef struct sl_ledger_xfer {
    const char *transfer_id;
    const char *link_id;
    const char *currency;
    const char *debit_kind, *debit_holder;
    const char *credit_kind, *credit_holder;
    int64_t amount;
    const char *kind;
    int pending;
    const char *pending_id;
    const char *reverses;
    int64_t usage_id;
    int64_t payout_id;
} sl_ledger_xfer;

/* Appends the canonical line of t to out:
 *   "v1 <transfer_id> <link_id> <currency> <debit kind>:<holder>
 *    <credit kind>:<holder> <amount> <kind> <0|1> <pending_id> <reverses>
 *    <usage_id> <payout_id>\n"
 * one space between fields, a NULL as "~", and in every text field each
 * byte outside [A-Za-z0-9._:-] ('~', '%' and space included, so fields
 * stay unambiguous; an account kind never holds ':') as %XX (uppercase
 * hex).  SL_OK or the sl_buf error. */
int sl_ledger_line(const sl_ledger_xfer *t, sl_buf *out);

#endif
