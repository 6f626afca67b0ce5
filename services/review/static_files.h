/*
 * static_files.h -- the dashboard's own script and style sheet
 * (services/review/static/app.js, app.css), compiled into the binary by
 * ui.cmake (library review_static, common/embed.cmake with PREFIX
 * rv_static), so sluice-review serves GET /static/<name> without reading
 * the install directory.  Data is NUL-terminated; len excludes the NUL.
 */
#ifndef RV_STATIC_FILES_H
#define RV_STATIC_FILES_H

#include <stddef.h>
#include <string.h>

#include "sl/embed.h"

/* The file called name ("app.js", "app.css"), or NULL. */
const sl_embedded *rv_static_get(const char *name);
const sl_embedded *rv_static_all(size_t *n);

/* The Content-Type to send with a static file, by its name. */
static inline const char *rv_static_type(const char *name)
{
    size_t n = strlen(name);

    if (n > 3 && strcmp(name + n - 3, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (n > 4 && strcmp(name + n - 4, ".css") == 0)
        return "text/css; charset=utf-8";
    return "application/octet-stream";
}

#endif
