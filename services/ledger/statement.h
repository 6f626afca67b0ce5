/*
 * statement.h -- the pure arithmetic of a creator's statement and of a
 * payout (issue #13), library sl_ledger_statement: no I/O, sl_core only.
 *
 * Amounts are int64 micro-units of one currency (018_ledger.sql); nothing
 * here uses floating point.  A statement is an opening balance, lines and
 * a closing balance, each read independently from the ledger by the caller
 * (statement_pg.c); sl_stmt_check() is the proof that they agree: every
 * earnings line splits its gross exactly (gross = fee + rounding + net),
 * and opening + the lines' nets = closing, with every sum checked for
 * overflow.  sl_payout_amount() is the rule of `payout run`: what a
 * creator is owed for the months up to the one paid, never more than the
 * balance left after the payouts still pending (never below zero).
 *
 * Text forms shared by sluicectl and the feed: an amount as a decimal of
 * the currency's unit with six places ("-12.000500"), a month as
 * "YYYY-MM", CSV fields that a spreadsheet will not run as formulas.
 */
#ifndef SL_LEDGER_STATEMENT_H
#define SL_LEDGER_STATEMENT_H

#include <stddef.h>
#include <stdint.h>

#include "sl/common.h"

/* What moved a creator's posted balance. */
typedef enum sl_stmt_kind {
    SL_STMT_EARNINGS = 0,   /* usage of one dataset's samples: + net */
    SL_STMT_CLAWBACK,       /* a withdrawal under the clawback policy: - */
    SL_STMT_PAYOUT,         /* a confirmed payout: - */
    SL_STMT_OTHER           /* any other transfer kind on the account */
} sl_stmt_kind;

const char *sl_stmt_kind_name(sl_stmt_kind k);   /* "earnings", ... */

typedef struct sl_stmt_line {
    sl_stmt_kind kind;
    int64_t samples;        /* earnings, clawback: usage events behind it */
    int64_t consumers;      /* earnings: distinct consumers among them */
    int64_t gross;          /* earnings: what the consumers were charged */
    int64_t fee;            /* earnings: the platform's fee */
    int64_t rounding;       /* earnings: the split's remainder */
    int64_t net;            /* the change of the creator's balance */
} sl_stmt_line;

typedef struct sl_stmt_totals {
    int64_t samples, gross, fee, rounding;
    int64_t earned;         /* sum of the earnings lines' nets (>= 0) */
    int64_t clawed_back;    /* sum of clawback nets (<= 0) */
    int64_t paid_out;       /* sum of payout nets (<= 0) */
    int64_t other;          /* sum of other nets */
    int64_t net;            /* all lines: closing - opening */
} sl_stmt_totals;

/* Checks a statement (see the top of this file) and fills *tot.  SL_OK,
 * or SL_EINVAL with the first disagreement in err ("line 2 (earnings):
 * gross 1000 != fee 100 + rounding 0 + net 800"; "opening 0 + lines 900
 * = 900, but the closing balance is 1000"), or SL_ETOOBIG on overflow. */
int sl_stmt_check(int64_t opening, const sl_stmt_line *lines, size_t n,
                  int64_t closing, sl_stmt_totals *tot, sl_err *err);

/* "-12.000500": the amount in units of the currency, six decimals.  out
 * must hold SL_AMOUNT_MAX bytes; returns out. */
#define SL_AMOUNT_MAX 32
char *sl_amount_format(int64_t micros, char out[SL_AMOUNT_MAX]);
/* Parses a non-negative amount in units ("10", "10.5", "0.000001": up to
 * six decimals, no sign, no exponent, at most 10^12 units) into micros.
 * SL_OK or SL_EINVAL (a seventh decimal is refused, never rounded). */
int sl_amount_parse(const char *s, int64_t *micros);

/* "YYYY-MM" (2000-01 .. 9999-12) into *year and *month. */
int sl_month_parse(const char *s, int *year, int *month);
/* The month's first day and the next month's, "YYYY-MM-01" (the
 * year after 9999-12 is 10000), UTC: the
 * half-open interval [start, end) of posted_at a statement covers. */
#define SL_DATE_MAX 12
void sl_month_bounds(int year, int month, char start[SL_DATE_MAX],
                     char end[SL_DATE_MAX]);

/* What `payout run` pays a creator in one currency for a month:
 *   entitled  the creator's balance from everything but payouts posted
 *             before the month's end (earnings net of clawbacks);
 *   paid      the payouts pending or confirmed so far (any month);
 *   posted    the account's posted balance now;
 *   pending   the account's pending debits now (payouts not yet settled).
 * Owed = entitled - paid, at most posted - pending (never below zero);
 * 0 when that is not positive or below min.  Never negative. */
int64_t sl_payout_amount(int64_t entitled, int64_t paid, int64_t posted,
                         int64_t pending, int64_t min);

/* Appends s as one CSV field (RFC 4180): quoted when it holds a comma,
 * quote, CR or LF; a text that a spreadsheet would evaluate (starting with
 * = + - @ TAB or CR) is prefixed with a single quote (OWASP CSV
 * injection).  Numbers go through sl_buf_appendf, not this. */
int sl_csv_field(sl_buf *out, const char *s);

#endif
