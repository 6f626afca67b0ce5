/*
 * main.c -- sluicectl, the operators' tool: `sluicectl [global options]
 * <command> [args]`.  This file only parses the global options and hands
 * the rest of the command line to the command's file (cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <librdkafka/rdkafka.h>

#include "ctl.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "unknown"
#endif

static const ctl_cmd commands[] = {
    { "db",      ctl_cmd_db,      "database schema: migrate" },
    { "topics",  ctl_cmd_topics,  "Kafka topics: create" },
    { "creator", ctl_cmd_creator, "creators and their keys: add, list, disable, enable" },
    { "dataset", ctl_cmd_dataset, "datasets: add, list, set, show" },
    { "upload",  ctl_cmd_upload,  "sign and send files to sluice.uploads" },
    { "status",  ctl_cmd_status,  "sample and rejection counts, consumer lag" },
    { "top",     ctl_cmd_top,     "throughput, lag and readiness per process, live (metrics.listen)" },
    { "audit",   ctl_cmd_audit,   "provenance chains: verify, show" },
    { "license", ctl_cmd_license, "SPDX expressions against a dataset's policy: check" },
    { "optout",  ctl_cmd_optout,  "creators' opt-outs of training, withdrawing samples: add, list, remove" },
    { "takedown", ctl_cmd_takedown, "content takedowns, withdrawing samples: add, list" },
    { "scan",    ctl_cmd_scan,    "run the scan stage's checks on local files" },
    { "moderator", ctl_cmd_moderator, "review dashboard accounts: add, list, disable, passwd" },
    { "consumer", ctl_cmd_consumer, "feed consumers (buyers): add, list, disable" },
    { "grant",   ctl_cmd_grant,   "consumers' grants on datasets: add, list, revoke" },
    { "token",   ctl_cmd_token,   "feed bearer tokens: issue, list, revoke" },
    { "usage",   ctl_cmd_usage,   "what the feed delivered, per consumer, creator or dataset" },
    { "ledger",  ctl_cmd_ledger,  "creators' earnings: balance, statement, verify" },
    { "payout",  ctl_cmd_payout,  "creators' payouts: run, confirm, fail, list" },
    { "dlq",     ctl_cmd_dlq,     "dead letters: list, replay once their cause is fixed" },
    { NULL, NULL, NULL }
};

static const char usage[] =
    "usage: sluicectl [-c FILE] [-X key=value]... [-v] <command> [args]\n"
    "       sluicectl --version | --help\n";

static void print_version(void)
{
    int pq = PQlibVersion();

    printf("sluicectl %s (librdkafka %s, libpq %d.%d, jansson %s, %s)\n",
           SLUICE_VERSION, rd_kafka_version_str(), pq / 10000, pq % 10000,
           JANSSON_VERSION, OpenSSL_version(OPENSSL_VERSION));
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        CTL_COMMON_LONG,
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    ctl c = { 0 };
    int opt, rc = CTL_USAGE;

    ctl_getopt_start();
    /* '+': stop at the command name; its own options follow it. */
    while ((opt = getopt_long(argc, argv, "+" CTL_COMMON_SHORT "V", longopts,
                              NULL)) != -1) {
        int handled = ctl_common_opt(&c, opt, optarg);
        if (handled < 0) {
            rc = ctl_fail("out of memory");
            goto out;
        }
        if (handled)
            continue;
        if (opt == 'V') {
            print_version();
            rc = CTL_OK;
            goto out;
        }
        if (opt == 'h') {
            ctl_print_subs(stdout, usage, commands);
            ctl_print_config_help(stdout);
            rc = CTL_OK;
            goto out;
        }
        fprintf(stderr, "sluicectl: unknown option, or one missing its value: "
                "\"%s\"\nTry 'sluicectl --help'.\n",
                optind > 0 && optind <= argc ? argv[optind - 1] : "?");
        goto out;
    }
    if (optind >= argc) {
        ctl_print_subs(stderr, usage, commands);
        goto out;
    }
    if (strcmp(argv[optind], "help") == 0) {
        ctl_print_subs(stdout, usage, commands);
        rc = CTL_OK;
        goto out;
    }
    if (strcmp(argv[optind], "version") == 0) {
        print_version();
        rc = CTL_OK;
        goto out;
    }
    for (const ctl_cmd *cmd = commands; cmd->name; cmd++)
        if (strcmp(argv[optind], cmd->name) == 0) {
            rc = cmd->fn(&c, argc - optind, argv + optind);
            goto out;
        }
    fprintf(stderr, "sluicectl: unknown command \"%s\"\nTry 'sluicectl --help'.\n",
            argv[optind]);
out:
    ctl_free(&c);
    return rc;
}
