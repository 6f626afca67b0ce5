/*
 * ledger.h -- sluice-ledger's poster (ledger_pg.c), between main.c and
 * PostgreSQL.
 *
 * The poster turns the feed's usage events (017_feed.sql) into transfers
 * (018_ledger.sql), in batches: one transaction per batch takes the
 * ledger_clock row (so posters, and payouts, serialise and seq is commit
 * order), reads the next unposted events in usage_id order, ensures their
 * accounts, inserts the legs of sl_ledger_logic with consecutive seqs,
 * adds them to the accounts' totals with one UPDATE, and records each
 * event in ledger_postings.  A crash anywhere rolls the whole batch back;
 * a second poster finds the events posted (the clock lock, then the
 * ledger_postings / transfer_id keys): each event is posted exactly once.
 *
 * Order.  usage_id is a sequence, so ids commit out of order: a gap below
 * a visible id may be a delivery still in flight.  The poster stops at a
 * gap until every transaction that was running when it saw the gap has
 * ended (the snapshot xmin passes the first snapshot's xmax), or
 * ledger.gap.wait.ms passed, then skips it (a rolled-back or conflicting
 * insert leaves one for ever).  A skipped id that commits later is found
 * by a rescan of the skipped ids (ledger.rescan.ms, kept for
 * ledger.gap.keep.s) and posted then, out of order, with a warning; at
 * start every id below the last posted one is scanned once.
 *
 * Withdrawals: each feed_changes row is applied once (ledger_withdrawals),
 * under its dataset's policy at that moment: the reversal legs of every
 * posted usage event of the sample, linked as "change:<seq>".  A usage
 * event posted after its sample's withdrawal was applied gets the same
 * reversal legs (in the same link) in its own batch.
 */
#ifndef SL_LEDGER_H
#define SL_LEDGER_H

#include <stdint.h>

#include "sl/common.h"
#include "sl/pg.h"

typedef struct lg_opts {
    int fee_bps;            /* ledger.fee.bps: when the dataset has none */
    int batch;              /* ledger.batch: usage events per transaction */
    int changes_batch;      /* ledger.changes.batch */
    int64_t gap_wait_ms;    /* ledger.gap.wait.ms */
    int64_t gap_keep_ms;    /* ledger.gap.keep.s * 1000 */
    int64_t rescan_ms;      /* ledger.rescan.ms */
} lg_opts;

typedef struct lg_poster lg_poster;

/* The statements and the LISTEN the poster needs on every connection: pass
 * them in sl_pgconn_opts. */
extern const sl_pg_stmt lg_stmts[];
extern const size_t lg_n_stmts;
int lg_on_connect(PGconn *c, void *arg, sl_err *err);

/* Reads where posting stands (the last posted usage_id).  SL_OK, SL_EIO,
 * SL_ERR or SL_ENOMEM. */
int  lg_poster_new(sl_pgconn *pc, const lg_opts *o, lg_poster **out, sl_err *err);
void lg_poster_destroy(lg_poster *p);

/* One batch of usage events: the start-up scan below the last posted id,
 * else the skipped ids when a rescan is due, else the next in usage_id
 * order.  *posted: events posted (0: none ready); *waiting: 1 when a gap
 * holds the next ones back.  SL_OK, SL_EIO (retry), SL_ERR. */
int  lg_post_usage(lg_poster *p, int *posted, int *waiting, sl_err *err);

/* One batch of feed_changes not yet applied.  *applied: how many. */
int  lg_apply_withdrawals(lg_poster *p, int *applied, sl_err *err);

#endif
