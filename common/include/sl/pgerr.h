/*
 * pgerr.h -- what a PostgreSQL error means for the caller: retry, the
 * statement's data, or a fault that no retry cures.  Pure (a SQLSTATE in,
 * a class out), in sl_core, so it is unit-tested without a server and read
 * by every part that talks to PostgreSQL (sl_pg's sl_pg_fail and
 * sl_pgconn, the commit sink's split of a refused batch).
 *
 * The classes, by SQLSTATE (PostgreSQL's Appendix A):
 *   SL_PGERR_RETRY  the same statement may succeed later, on this or a new
 *                   connection:
 *                     class 08 connection exception,
 *                     40001 serialization_failure, 40P01 deadlock_detected,
 *                     40003 statement_completion_unknown,
 *                     class 53 insufficient resources (disk full, out of
 *                     memory, too many connections),
 *                     57P01 admin_shutdown, 57P02 crash_shutdown,
 *                     57P03 cannot_connect_now, 57P05 idle_session_timeout,
 *                     57014 query_canceled (statement_timeout, an operator's
 *                     pg_cancel_backend), 55P03 lock_not_available,
 *                     25P03 idle_in_transaction_session_timeout.
 *   SL_PGERR_DATA   the statement's data, which a retry never cures:
 *                     class 22 data exception, class 23 integrity
 *                     constraint violation (a unique key included: callers
 *                     that race other writers decide to retry it
 *                     themselves), class 54 program limit exceeded.
 *   SL_PGERR_OTHER  everything else, a fault of the program or of the
 *                   deployment: 42501 insufficient_privilege, 42P01
 *                   undefined_table, a syntax error, an unknown or
 *                   malformed SQLSTATE, none at all (NULL or "").
 * A lost connection without a SQLSTATE is the caller's to see
 * (PQstatus); sl_pg_fail does that and then asks this table.
 */
#ifndef SL_PGERR_H
#define SL_PGERR_H

typedef enum sl_pgerr_class {
    SL_PGERR_RETRY = 1,
    SL_PGERR_DATA,
    SL_PGERR_OTHER,
} sl_pgerr_class;

/* The class of a five-character SQLSTATE (NULL allowed). */
sl_pgerr_class sl_pgerr_classify(const char *sqlstate);

/* SL_EIO ("retry") for SL_PGERR_RETRY, SL_ERR for the other classes. */
int sl_pgerr_rc(const char *sqlstate);

#endif
