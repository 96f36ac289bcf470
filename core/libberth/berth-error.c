/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "berth-error.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_DEFINE_QUARK (berth-error-quark, berth_error)

/**
 * berth_error_to_http_status:
 * @error: a #GError
 *
 * Maps an error to the HTTP status a front door answers with. Errors of the
 * %BERTH_ERROR domain map one to one; a few well-known #GIOErrorEnum codes
 * are mapped too; anything else is 500.
 *
 * Returns: an HTTP status code
 */
guint
berth_error_to_http_status (const GError *error)
{
  static const guint statuses[] = {
    [BERTH_ERROR_FAILED] = 500,
    [BERTH_ERROR_INVALID] = 400,
    [BERTH_ERROR_UNAUTHORIZED] = 401,
    [BERTH_ERROR_DENIED] = 403,
    [BERTH_ERROR_NOT_FOUND] = 404,
    [BERTH_ERROR_METHOD_NOT_ALLOWED] = 405,
    [BERTH_ERROR_CONFLICT] = 409,
    [BERTH_ERROR_TOO_LARGE] = 413,
    [BERTH_ERROR_UNPROCESSABLE] = 422,
    [BERTH_ERROR_RATE_LIMITED] = 429,
    [BERTH_ERROR_NOT_IMPLEMENTED] = 501,
    [BERTH_ERROR_UNAVAILABLE] = 503,
    [BERTH_ERROR_TIMEOUT] = 504,
  };

  g_return_val_if_fail (error != NULL, 500);

  if (error->domain == BERTH_ERROR)
    {
      if (error->code >= 0 && (gsize) error->code < G_N_ELEMENTS (statuses))
        return statuses[error->code];
      return 500;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return 404;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    return 403;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
    return 400;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    return 409;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return 504;
  /* the operation was given up: the client went away, or berthd is stopping */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return 503;
  if (error->domain == JSON_PARSER_ERROR)
    return 400;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    return 501;
  return 500;
}
