/*
 * pgerr.c -- the one table of which PostgreSQL errors are worth a retry
 * and which are about the data (see pgerr.h for the classes and why each
 * SQLSTATE is where it is).  No libpq: a SQLSTATE is five characters.
 */
#include <string.h>

#include "sl/common.h"
#include "sl/pgerr.h"

/* Whole classes (the first two characters) worth a retry. */
static const char *const retry_classes[] = { "08", "53" };
/* Single conditions worth a retry. */
static const char *const retry_states[] = {
    "40001", "40P01", "40003", "57P01", "57P02", "57P03", "57P05",
    "57014", "55P03", "25P03",
};
/* Classes about the statement's data. */
static const char *const data_classes[] = { "22", "23", "54" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A SQLSTATE is exactly five digits or upper-case letters. */
static int well_formed(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
            return 0;
    return s[5] == '\0';
}

sl_pgerr_class sl_pgerr_classify(const char *s)
{
    if (!s || !well_formed(s))
        return SL_PGERR_OTHER;
    for (size_t i = 0; i < COUNT(retry_states); i++)
        if (strcmp(s, retry_states[i]) == 0)
            return SL_PGERR_RETRY;
    for (size_t i = 0; i < COUNT(retry_classes); i++)
        if (strncmp(s, retry_classes[i], 2) == 0)
            return SL_PGERR_RETRY;
    for (size_t i = 0; i < COUNT(data_classes); i++)
        if (strncmp(s, data_classes[i], 2) == 0)
            return SL_PGERR_DATA;
    return SL_PGERR_OTHER;
}

int sl_pgerr_rc(const char *sqlstate)
{
    return sl_pgerr_classify(sqlstate) == SL_PGERR_RETRY ? SL_EIO : SL_ERR;
}
