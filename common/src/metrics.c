/*
 * metrics.c -- the metrics registry and its Prometheus text exposition
 * (the contract is in sl/metrics.h).
 *
 * A family keeps its series in an array searched linearly: label sets are
 * few by construction (max_series), and a lookup compares at most
 * SL_METRIC_MAX_LABELS short strings per series.  Each family owns one
 * overflow series (labels all "other") made at declaration, so an update
 * never needs memory it may not get.  One mutex per registry guards every
 * value; exposition renders under it into the caller's capped buffer.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl/metrics.h"

typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM } m_type;

typedef struct series {
    char *values[SL_METRIC_MAX_LABELS];
    double value;              /* counter, gauge */
    double sum;                /* histogram */
    unsigned long long count;
    unsigned long long *buckets;   /* n_bounds + 1 (+Inf), not cumulative */
} series;

struct sl_metric {
    sl_metrics *reg;
    m_type type;
    char *name, *help;
    char *labels[SL_METRIC_MAX_LABELS];
    size_t n_labels;
    double bounds[SL_METRIC_MAX_BUCKETS];
    size_t n_bounds;
    size_t max_series;
    series **s;
    size_t n, cap;
    series *other;             /* the overflow series */
    int other_used;
    struct sl_metric *next;
};

struct sl_metrics {
    pthread_mutex_t mu;
    sl_metric *head, *tail;
};

static const char *const other_values[SL_METRIC_MAX_LABELS] = {
    SL_METRIC_OTHER, SL_METRIC_OTHER, SL_METRIC_OTHER, SL_METRIC_OTHER
};

sl_metrics *sl_metrics_new(void)
{
    sl_metrics *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

static void series_free(series *s, size_t n_labels)
{
    if (!s)
        return;
    for (size_t i = 0; i < n_labels; i++)
        free(s->values[i]);
    free(s->buckets);
    free(s);
}

static void family_free(sl_metric *f)
{
    for (size_t i = 0; i < f->n; i++)
        series_free(f->s[i], f->n_labels);
    series_free(f->other, f->n_labels);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->labels[i]);
    free(f->s);
    free(f->name);
    free(f->help);
    free(f);
}

void sl_metrics_destroy(sl_metrics *m)
{
    sl_metric *f, *next;

    if (!m)
        return;
    for (f = m->head; f; f = next) {
        next = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* ---- names ---------------------------------------------------------------- */

static int name_ok(const char *s, int colon)
{
    if (!s || !*s)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (colon && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A series with the given values (NULL: none), and buckets for a
 * histogram.  NULL without memory. */
static series *series_new(const sl_metric *f, const char *const *values)
{
    series *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    for (size_t i = 0; i < f->n_labels; i++)
        if (!(s->values[i] = strdup(values[i])))
            goto fail;
    if (f->type == M_HISTOGRAM &&
        !(s->buckets = calloc(f->n_bounds + 1, sizeof(*s->buckets))))
        goto fail;
    return s;
fail:
    series_free(s, f->n_labels);
    return NULL;
}

static sl_metric *declare(sl_metrics *m, m_type type, const char *name,
                          const char *help, const char *const *labels,
                          size_t max_series, const double *bounds,
                          size_t n_bounds, sl_err *err)
{
    sl_metric *f;
    size_t nl = 0;

    if (!m || !name_ok(name, 1)) {
        sl_err_set(err, "metric name \"%s\" is not [a-zA-Z_:][a-zA-Z0-9_:]*",
                   name ? name : "(null)");
        return NULL;
    }
    if (type == M_COUNTER && !ends_with(name, "_total")) {
        sl_err_set(err, "counter %s: its name must end in _total", name);
        return NULL;
    }
    for (nl = 0; labels && labels[nl]; nl++) {
        if (nl == SL_METRIC_MAX_LABELS) {
            sl_err_set(err, "%s: more than %d labels", name, SL_METRIC_MAX_LABELS);
            return NULL;
        }
        if (!name_ok(labels[nl], 0) || strncmp(labels[nl], "__", 2) == 0 ||
            (type == M_HISTOGRAM && strcmp(labels[nl], "le") == 0)) {
            sl_err_set(err, "%s: bad label name \"%s\"", name, labels[nl]);
            return NULL;
        }
        for (size_t j = 0; j < nl; j++)
            if (strcmp(labels[j], labels[nl]) == 0) {
                sl_err_set(err, "%s: label \"%s\" twice", name, labels[nl]);
                return NULL;
            }
    }
    if (nl && max_series < 1) {
        sl_err_set(err, "%s: max_series must be at least 1", name);
        return NULL;
    }
    if (type == M_HISTOGRAM) {
        if (!bounds || n_bounds < 1 || n_bounds > SL_METRIC_MAX_BUCKETS) {
            sl_err_set(err, "%s: 1 to %d bucket bounds", name, SL_METRIC_MAX_BUCKETS);
            return NULL;
        }
        for (size_t i = 0; i < n_bounds; i++)
            if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1])) {
                sl_err_set(err, "%s: bucket bounds must be finite and increasing", name);
                return NULL;
            }
    }
    pthread_mutex_lock(&m->mu);
    for (f = m->head; f; f = f->next)
        if (strcmp(f->name, name) == 0) {
            pthread_mutex_unlock(&m->mu);
            sl_err_set(err, "metric %s declared twice", name);
            return NULL;
        }
    pthread_mutex_unlock(&m->mu);

    if (!(f = calloc(1, sizeof(*f))))
        goto nomem;
    f->reg = m;
    f->type = type;
    f->n_labels = nl;
    f->max_series = nl ? max_series : 1;
    if (type == M_HISTOGRAM) {
        memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
        f->n_bounds = n_bounds;
    }
    if (!(f->name = strdup(name)) || !(f->help = strdup(help ? help : "")))
        goto nomem;
    for (size_t i = 0; i < nl; i++)
        if (!(f->labels[i] = strdup(labels[i])))
            goto nomem;
    if (!(f->other = series_new(f, other_values)))
        goto nomem;
    if (!nl) {
        /* The one series of a family without labels exists from the
         * start, so it is exposed as 0 before its first update. */
        if (!(f->s = calloc(1, sizeof(*f->s))) || !(f->s[0] = series_new(f, NULL)))
            goto nomem;
        f->n = f->cap = 1;
    }
    pthread_mutex_lock(&m->mu);
    if (m->tail)
        m->tail->next = f;
    else
        m->head = f;
    m->tail = f;
    pthread_mutex_unlock(&m->mu);
    return f;
nomem:
    if (f)
        family_free(f);
    sl_err_set(err, "%s: out of memory", name);
    return NULL;
}

sl_metric *sl_metrics_counter(sl_metrics *m, const char *name, const char *help,
                              const char *const *labels, size_t max_series,
                              sl_err *err)
{
    return declare(m, M_COUNTER, name, help, labels, max_series, NULL, 0, err);
}

sl_metric *sl_metrics_gauge(sl_metrics *m, const char *name, const char *help,
                            const char *const *labels, size_t max_series,
                            sl_err *err)
{
    return declare(m, M_GAUGE, name, help, labels, max_series, NULL, 0, err);
}

sl_metric *sl_metrics_histogram(sl_metrics *m, const char *name, const char *help,
                                const char *const *labels, size_t max_series,
                                const double *bounds, size_t n_bounds,
                                sl_err *err)
{
    return declare(m, M_HISTOGRAM, name, help, labels, max_series, bounds,
                   n_bounds, err);
}

/* ---- updates ---------------------------------------------------------- */

/* Under the mutex: the series of values, made when missing, or the
 * overflow series.  create 0: NULL when missing. */
static series *find(sl_metric *f, const char *const *values, int create)
{
    size_t i, j;
    series *s, **ns;

    if (!f->n_labels)
        return f->s[0];
    for (i = 0; i < f->n; i++) {
        for (j = 0; j < f->n_labels; j++) {
            const char *v = values && values[j] ? values[j] : "";
            if (strcmp(f->s[i]->values[j], v) != 0)
                break;
        }
        if (j == f->n_labels)
            return f->s[i];
    }
    if (!create)
        return NULL;
    if (!values || f->n >= f->max_series)
        goto other;
    for (j = 0; j < f->n_labels; j++)
        if (!values[j] || strlen(values[j]) > SL_METRIC_MAX_VALUE)
            goto other;
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 8;
        if (nc > f->max_series)
            nc = f->max_series;
        if (!(ns = realloc(f->s, nc * sizeof(*ns))))
            goto other;
        f->s = ns;
        f->cap = nc;
    }
    {
        /* Label values are exposed as UTF-8: a value that is not is
         * stored with U+FFFD in place of its bad bytes. */
        char *clean[SL_METRIC_MAX_LABELS] = { 0 };
        const char *use[SL_METRIC_MAX_LABELS];
        for (j = 0; j < f->n_labels; j++) {
            sl_buf b;
            sl_buf_init(&b, SL_METRIC_MAX_VALUE * 3 + 1);
            if (sl_utf8_sanitize(&b, values[j], strlen(values[j])) != SL_OK ||
                sl_buf_cstr(&b) != SL_OK) {
                sl_buf_free(&b);
                for (size_t k = 0; k < j; k++)
                    free(clean[k]);
                goto other;
            }
            clean[j] = (char *)b.data;
            use[j] = clean[j] ? clean[j] : "";
        }
        s = series_new(f, use);
        for (j = 0; j < f->n_labels; j++)
            free(clean[j]);
        if (!s)
            goto other;
    }
    f->s[f->n++] = s;
    return s;
other:
    f->other_used = 1;
    return f->other;
}

void sl_metric_add(sl_metric *f, const char *const *values, double by)
{
    series *s;

    if (!f)
        return;
    assert(f->type != M_HISTOGRAM);
    if (f->type == M_COUNTER && !(by >= 0))
        return;
    pthread_mutex_lock(&f->reg->mu);
    s = find(f, values, 1);
    s->value += by;
    pthread_mutex_unlock(&f->reg->mu);
}

void sl_metric_set(sl_metric *f, const char *const *values, double v)
{
    series *s;

    if (!f)
        return;
    assert(f->type == M_GAUGE);
    pthread_mutex_lock(&f->reg->mu);
    s = find(f, values, 1);
    s->value = v;
    pthread_mutex_unlock(&f->reg->mu);
}

void sl_metric_observe(sl_metric *f, const char *const *values, double v)
{
    series *s;
    size_t i;

    if (!f || isnan(v))
        return;
    assert(f->type == M_HISTOGRAM);
    for (i = 0; i < f->n_bounds && v > f->bounds[i]; i++)
        ;
    pthread_mutex_lock(&f->reg->mu);
    s = find(f, values, 1);
    s->buckets[i]++;
    s->count++;
    s->sum += v;
    pthread_mutex_unlock(&f->reg->mu);
}

/* Under the mutex: drops every series (labelled families). */
static void clear_locked(sl_metric *f)
{
    for (size_t i = 0; i < f->n; i++)
        series_free(f->s[i], f->n_labels);
    f->n = 0;
    f->other_used = 0;
    f->other->value = f->other->sum = 0;
    f->other->count = 0;
    if (f->other->buckets)
        memset(f->other->buckets, 0, (f->n_bounds + 1) * sizeof(*f->other->buckets));
}

void sl_metric_clear(sl_metric *f)
{
    if (!f || !f->n_labels)
        return;
    pthread_mutex_lock(&f->reg->mu);
    clear_locked(f);
    pthread_mutex_unlock(&f->reg->mu);
}

void sl_metric_set_all(sl_metric *f, size_t n, const char *const *values,
                       const double *v)
{
    if (!f)
        return;
    assert(f->type == M_GAUGE);
    pthread_mutex_lock(&f->reg->mu);
    if (f->n_labels)
        clear_locked(f);
    for (size_t i = 0; i < n; i++)
        find(f, values + i * f->n_labels, 1)->value = v[i];
    pthread_mutex_unlock(&f->reg->mu);
}

double sl_metric_value(sl_metric *f, const char *const *values)
{
    series *s;
    double v = 0;

    if (!f)
        return 0;
    pthread_mutex_lock(&f->reg->mu);
    s = find(f, values, 0);
    if (!s && f->other_used && values) {
        size_t j;
        for (j = 0; j < f->n_labels && values[j] &&
             strcmp(values[j], SL_METRIC_OTHER) == 0; j++)
            ;
        if (j == f->n_labels)
            s = f->other;
    }
    if (s)
        v = f->type == M_HISTOGRAM ? (double)s->count : s->value;
    pthread_mutex_unlock(&f->reg->mu);
    return v;
}

/* ---- exposition --------------------------------------------------------- */

void sl_metrics_format_double(double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* HELP text: backslash and newline escaped. */
static int put_help(sl_buf *b, const char *s)
{
    int rc = SL_OK;

    for (; *s && rc == SL_OK; s++) {
        if (*s == '\\')
            rc = sl_buf_append(b, "\\\\", 2);
        else if (*s == '\n')
            rc = sl_buf_append(b, "\\n", 2);
        else
            rc = sl_buf_putc(b, *s);
    }
    return rc;
}

/* A label value: backslash, double quote and newline escaped. */
static int put_value(sl_buf *b, const char *s)
{
    int rc = SL_OK;

    for (; *s && rc == SL_OK; s++) {
        if (*s == '\\')
            rc = sl_buf_append(b, "\\\\", 2);
        else if (*s == '"')
            rc = sl_buf_append(b, "\\\"", 2);
        else if (*s == '\n')
            rc = sl_buf_append(b, "\\n", 2);
        else
            rc = sl_buf_putc(b, *s);
    }
    return rc;
}

/* name{l1="v1",...,le="x"} value\n -- le NULL: none; suffix appended to
 * the name. */
static int put_sample(sl_buf *b, const sl_metric *f, const char *suffix,
                      const series *s, const char *le, double v)
{
    char num[64];
    int rc, open = 0;

    rc = sl_buf_appendf(b, "%s%s", f->name, suffix);
    for (size_t i = 0; rc == SL_OK && i < f->n_labels; i++) {
        rc = sl_buf_appendf(b, "%s%s=\"", open ? "," : "{", f->labels[i]);
        open = 1;
        if (rc == SL_OK)
            rc = put_value(b, s->values[i]);
        if (rc == SL_OK)
            rc = sl_buf_putc(b, '"');
    }
    if (rc == SL_OK && le) {
        rc = sl_buf_appendf(b, "%sle=\"%s\"", open ? "," : "{", le);
        open = 1;
    }
    if (rc == SL_OK && open)
        rc = sl_buf_putc(b, '}');
    sl_metrics_format_double(v, num, sizeof(num));
    if (rc == SL_OK)
        rc = sl_buf_appendf(b, " %s\n", num);
    return rc;
}

static int put_series(sl_buf *b, const sl_metric *f, const series *s)
{
    char le[64];
    unsigned long long cum = 0;
    int rc = SL_OK;

    if (f->type != M_HISTOGRAM)
        return put_sample(b, f, "", s, NULL, s->value);
    for (size_t i = 0; rc == SL_OK && i <= f->n_bounds; i++) {
        cum += s->buckets[i];
        if (i < f->n_bounds)
            sl_metrics_format_double(f->bounds[i], le, sizeof(le));
        else
            snprintf(le, sizeof(le), "+Inf");
        rc = put_sample(b, f, "_bucket", s, le, (double)cum);
    }
    if (rc == SL_OK)
        rc = put_sample(b, f, "_sum", s, NULL, s->sum);
    if (rc == SL_OK)
        rc = put_sample(b, f, "_count", s, NULL, (double)s->count);
    return rc;
}

int sl_metrics_expose(sl_metrics *m, sl_buf *out)
{
    static const char *const type_name[] = { "counter", "gauge", "histogram" };
    int rc = SL_OK;

    pthread_mutex_lock(&m->mu);
    for (const sl_metric *f = m->head; f && rc == SL_OK; f = f->next) {
        rc = sl_buf_appendf(out, "# HELP %s ", f->name);
        if (rc == SL_OK)
            rc = put_help(out, f->help);
        if (rc == SL_OK)
            rc = sl_buf_appendf(out, "\n# TYPE %s %s\n", f->name, type_name[f->type]);
        for (size_t i = 0; rc == SL_OK && i < f->n; i++)
            rc = put_series(out, f, f->s[i]);
        if (rc == SL_OK && f->other_used)
            rc = put_series(out, f, f->other);
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}
