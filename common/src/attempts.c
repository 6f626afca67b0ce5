/*
 * attempts.c -- the failed-attempt table of sl/attempts.h: a small array
 * searched linearly (it holds the few messages that failed recently, and
 * is empty in the steady state), evicting the least recently touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/attempts.h"

#define ATT_TOPIC_MAX 256

typedef struct att_entry {
    char topic[ATT_TOPIC_MAX];
    int32_t partition;
    int64_t offset;
    int count;
    uint64_t touched;     /* the table's clock at the last failure */
} att_entry;

struct sl_attempts {
    att_entry *e;
    size_t n, cap;
    uint64_t clock;
};

sl_attempts *sl_attempts_new(size_t cap)
{
    sl_attempts *a;

    if (cap < 1)
        cap = 1;
    if (!(a = calloc(1, sizeof(*a))))
        return NULL;
    if (!(a->e = calloc(cap, sizeof(*a->e)))) {
        free(a);
        return NULL;
    }
    a->cap = cap;
    return a;
}

void sl_attempts_destroy(sl_attempts *a)
{
    if (!a)
        return;
    free(a->e);
    free(a);
}

static att_entry *find(sl_attempts *a, const char *topic, int32_t partition,
                       int64_t offset)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->e[i].offset == offset && a->e[i].partition == partition &&
            strncmp(a->e[i].topic, topic, ATT_TOPIC_MAX - 1) == 0)
            return &a->e[i];
    return NULL;
}

int sl_attempts_fail(sl_attempts *a, const char *topic, int32_t partition,
                     int64_t offset)
{
    att_entry *e = find(a, topic, partition, offset);

    if (!e) {
        if (a->n < a->cap) {
            e = &a->e[a->n++];
        } else {
            e = &a->e[0];
            for (size_t i = 1; i < a->n; i++)
                if (a->e[i].touched < e->touched)
                    e = &a->e[i];
        }
        snprintf(e->topic, sizeof(e->topic), "%s", topic);
        e->partition = partition;
        e->offset = offset;
        e->count = 0;
    }
    e->count++;
    e->touched = ++a->clock;
    return e->count;
}

void sl_attempts_forget(sl_attempts *a, const char *topic, int32_t partition,
                        int64_t offset)
{
    att_entry *e;

    if (!a->n || !(e = find(a, topic, partition, offset)))
        return;
    *e = a->e[--a->n];
}

size_t sl_attempts_size(const sl_attempts *a)
{
    return a->n;
}

int sl_attempts_exhausted(int n, int64_t max_attempts)
{
    return (int64_t)n >= (max_attempts < 1 ? 1 : max_attempts);
}
