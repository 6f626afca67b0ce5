/*
 * ledger_logic.c -- the split, the derived ids, the reversal legs and the
 * canonical line of a transfer (ledger_logic.h states the rules).
 */
#include <stdio.h>
#include <string.h>

#include "ledger_logic.h"

static const char *const acct_names[] = {
    "consumer", "creator", "platform", "payouts_in_transit", "rounding"
};
static const char *const kind_names[] = {
    "charge", "fee", "rounding", "refund", "clawback", "payout", "payout_post",
    "payout_void"
};
static const char *const policy_names[] = { "kept", "refund", "clawback" };

const char *sl_ledger_acct_name(sl_ledger_acct a)
{
    return (unsigned)a < sizeof acct_names / sizeof *acct_names ? acct_names[a] : "?";
}

int sl_ledger_acct_allow_negative(sl_ledger_acct a)
{
    return a == SL_ACCT_CONSUMER || a == SL_ACCT_PLATFORM || a == SL_ACCT_ROUNDING;
}

const char *sl_ledger_kind_name(sl_ledger_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "?";
}

const char *sl_ledger_policy_name(sl_ledger_policy p)
{
    return (unsigned)p < sizeof policy_names / sizeof *policy_names ? policy_names[p] : "?";
}

int sl_ledger_policy_parse(const char *s, sl_ledger_policy *out)
{
    size_t i;

    for (i = 0; s && i < sizeof policy_names / sizeof *policy_names; i++)
        if (strcmp(s, policy_names[i]) == 0) {
            *out = (sl_ledger_policy)i;
            return SL_OK;
        }
    return SL_EINVAL;
}

/* floor(p * num / 10000) for p >= 0, 0 <= num <= 10000, without forming
 * p * num: p = q * 10000 + r, so p * num / 10000 = q * num + r * num / 10000
 * where r * num < 10^8. */
static int64_t mul_bps(int64_t p, int64_t num)
{
    return (p / SL_LEDGER_BPS_MAX) * num + ((p % SL_LEDGER_BPS_MAX) * num) / SL_LEDGER_BPS_MAX;
}

int sl_ledger_split_price(int64_t price, int fee_bps, sl_ledger_split *out)
{
    if (price < 0 || fee_bps < 0 || fee_bps > SL_LEDGER_BPS_MAX)
        return SL_EINVAL;
    out->net = mul_bps(price, SL_LEDGER_BPS_MAX - fee_bps);
    out->fee = mul_bps(price, fee_bps);
    out->rounding = price - out->net - out->fee;
    return SL_OK;
}

void sl_ledger_usage_link(int64_t usage_id, char out[SL_LEDGER_ID_MAX])
{
    snprintf(out, SL_LEDGER_ID_MAX, "usage:%lld", (long long)usage_id);
}

void sl_ledger_change_link(int64_t change_seq, char out[SL_LEDGER_ID_MAX])
{
    snprintf(out, SL_LEDGER_ID_MAX, "change:%lld", (long long)change_seq);
}

/* The three parts of a split, as posted: kind, id suffix, credit account. */
static const struct {
    sl_ledger_kind kind;
    const char *suffix;
    sl_ledger_acct credit;
} parts[3] = {
    { SL_XFER_CHARGE, "net", SL_ACCT_CREATOR },
    { SL_XFER_FEE, "fee", SL_ACCT_PLATFORM },
    { SL_XFER_ROUNDING, "rounding", SL_ACCT_ROUNDING },
};

static int64_t part_amount(const sl_ledger_split *s, size_t i)
{
    return i == 0 ? s->net : i == 1 ? s->fee : s->rounding;
}

size_t sl_ledger_usage_legs(int64_t usage_id, const sl_ledger_split *s,
                            sl_ledger_leg out[3])
{
    size_t i, n = 0;

    for (i = 0; i < 3; i++) {
        int64_t amount = part_amount(s, i);
        if (amount <= 0)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        out[n].kind = parts[i].kind;
        out[n].debit = SL_ACCT_CONSUMER;
        out[n].credit = parts[i].credit;
        out[n].amount = amount;
        snprintf(out[n].transfer_id, SL_LEDGER_ID_MAX, "usage:%lld:%s",
                 (long long)usage_id, parts[i].suffix);
        n++;
    }
    return n;
}

size_t sl_ledger_reversal_legs(int64_t usage_id, const sl_ledger_split *s,
                               sl_ledger_policy p, sl_ledger_leg out[3])
{
    size_t i, n = 0;

    if (p != SL_POLICY_REFUND && p != SL_POLICY_CLAWBACK)
        return 0;
    for (i = 0; i < 3; i++) {
        int64_t amount = part_amount(s, i);
        if (amount <= 0)
            continue;
        memset(&out[n], 0, sizeof out[n]);
        out[n].kind = p == SL_POLICY_REFUND ? SL_XFER_REFUND : SL_XFER_CLAWBACK;
        out[n].debit = p == SL_POLICY_REFUND ? SL_ACCT_PLATFORM : parts[i].credit;
        out[n].credit = SL_ACCT_CONSUMER;
        out[n].amount = amount;
        snprintf(out[n].reverses, SL_LEDGER_ID_MAX, "usage:%lld:%s",
                 (long long)usage_id, parts[i].suffix);
        snprintf(out[n].transfer_id, SL_LEDGER_ID_MAX, "usage:%lld:%s:%s",
                 (long long)usage_id, parts[i].suffix, sl_ledger_policy_name(p));
        n++;
    }
    return n;
}

/* A text field: NULL as "~", bytes outside [A-Za-z0-9._:-] as %XX. */
static int put_text(sl_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = SL_OK;

    if (!s)
        return sl_buf_putc(b, '~');
    for (; *s && rc == SL_OK; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == ':' || c == '-') {
            rc = sl_buf_putc(b, (char)c);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            rc = sl_buf_append(b, e, 3);
        }
    }
    return rc;
}

static int put_id(sl_buf *b, int64_t v)
{
    return v < 0 ? sl_buf_putc(b, '~') : sl_buf_appendf(b, "%lld", (long long)v);
}

int sl_ledger_line(const sl_ledger_xfer *t, sl_buf *out)
{
    int rc = sl_buf_append(out, "v1 ", 3);

    if (rc == SL_OK) rc = put_text(out, t->transfer_id);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_text(out, t->link_id);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_text(out, t->currency);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_text(out, t->debit_kind);
    if (rc == SL_OK) rc = sl_buf_putc(out, ':');
    if (rc == SL_OK) rc = put_text(out, t->debit_holder);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_text(out, t->credit_kind);
    if (rc == SL_OK) rc = sl_buf_putc(out, ':');
    if (rc == SL_OK) rc = put_text(out, t->credit_holder);
    if (rc == SL_OK) rc = sl_buf_appendf(out, " %lld ", (long long)t->amount);
    if (rc == SL_OK) rc = put_text(out, t->kind);
    if (rc == SL_OK) rc = sl_buf_append(out, t->pending ? " 1 " : " 0 ", 3);
    if (rc == SL_OK) rc = put_text(out, t->pending_id);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_text(out, t->reverses);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_id(out, t->usage_id);
    if (rc == SL_OK) rc = sl_buf_putc(out, ' ');
    if (rc == SL_OK) rc = put_id(out, t->payout_id);
    if (rc == SL_OK) rc = sl_buf_putc(out, '\n');
    return rc;
}
