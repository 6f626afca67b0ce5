/*
 * statement_pg.h -- a creator's statement and an account's balances, read
 * from the ledger tables (018_ledger.sql) as JSON: the one reading behind
 * `sluicectl ledger statement|balance` and the feed's
 * `GET /v1/creators/me/statement?month=` (library sl_ledger_statement_pg:
 * libpq + jansson + the pure sl_ledger_statement).
 *
 * A statement is read in one REPEATABLE READ READ ONLY transaction of its
 * own (call it on an idle connection: SL_EINVAL otherwise), so all its
 * parts see the same ledger.  Its parts come from independent readings and
 * are proved equal by sl_stmt_check():
 *   opening / closing  the creator account's posted balance over its
 *                      transfers posted before the month / before its end
 *                      (a pending payout does not count; its post does, a
 *                      void does not);
 *   earnings lines     per dataset: the usage events posted in the month
 *                      (ledger_postings.posted_at) -- samples, distinct
 *                      consumers, gross (their price), and from their
 *                      transfers the fee, the rounding and the net credited
 *                      to the creator; usage_ids and link_ids trace them;
 *   clawback lines     per dataset: clawback transfers debiting the creator
 *   payout lines       per confirmed payout: its payout_post transfer
 *   other lines        per kind: any other transfer on the account.
 * When the month is the current one, the closing balance must also equal
 * the account's running totals (ledger_accounts).
 *
 * JSON shape (amounts in integer micro-units, "_micros"):
 *   {"creator_id","currency","month","from","to","opening_micros",
 *    "lines":[{"type":"earnings","dataset_id","samples","consumers",
 *              "gross_micros","fee_micros","rounding_micros","net_micros",
 *              "usage_ids":[..],"link_ids":[..]},
 *             {"type":"clawback","dataset_id","samples","net_micros",
 *              "usage_ids":[..],"transfer_ids":[..]},
 *             {"type":"payout","payout_id","payout_month","reference",
 *              "net_micros","transfer_ids":[..]},
 *             {"type":"other","kind","net_micros","transfer_ids":[..]}],
 *    "totals":{"samples","gross_micros","fee_micros","rounding_micros",
 *              "earned_micros","clawed_back_micros","paid_out_micros",
 *              "other_micros","net_micros"},
 *    "closing_micros","pending_payouts_micros","balanced":true}
 *
 * Returns SL_OK with *out (the caller's, json_decref), SL_ENOTFOUND (no
 * such creator / consumer), SL_EINVAL (bad month, a creator with accounts
 * in several currencies and none named, a connection inside a
 * transaction), SL_ERR (the statement does not balance: the disagreement
 * in err; or a statement error), SL_EIO (connection).
 */
#ifndef SL_LEDGER_STATEMENT_PG_H
#define SL_LEDGER_STATEMENT_PG_H

#include <jansson.h>
#include <libpq-fe.h>

#include "sl/common.h"

/* month "YYYY-MM"; currency NULL: the creator's only currency (USD when it
 * has no account yet). */
int sl_stmt_pg_statement(PGconn *pg, const char *creator_id, const char *month,
                         const char *currency, json_t **out, sl_err *err);

/* The balances of one holder's accounts, one object per currency (only
 * `currency` when not NULL), as a JSON array:
 *   kind "creator" / "consumer": holder names it (must exist in creators /
 *   consumers); kind "platform": holder NULL, the platform's, rounding and
 *   payouts-in-transit accounts.
 * Each: {"kind","holder","currency","account_id","posted_micros" (credits -
 * debits posted),"debits_pending_micros","credits_pending_micros",
 * "available_micros" (posted - debits pending),"debits_posted_micros",
 * "credits_posted_micros"}. */
int sl_stmt_pg_balance(PGconn *pg, const char *kind, const char *holder,
                       const char *currency, json_t **out, sl_err *err);

#endif
