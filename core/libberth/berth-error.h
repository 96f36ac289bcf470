/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#if !defined(__BERTH_H_INSIDE__) && !defined(BERTH_COMPILATION)
#error "Only <berth.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * BERTH_ERROR:
 *
 * Error domain for Berth. Every code maps to exactly one HTTP status, see
 * berth_error_to_http_status().
 */
#define BERTH_ERROR (berth_error_quark ())

/**
 * BerthError:
 * @BERTH_ERROR_FAILED: internal failure (500)
 * @BERTH_ERROR_INVALID: the request is malformed (400)
 * @BERTH_ERROR_UNAUTHORIZED: no valid credentials were given (401)
 * @BERTH_ERROR_DENIED: the credentials do not allow this (403)
 * @BERTH_ERROR_NOT_FOUND: no such object (404)
 * @BERTH_ERROR_METHOD_NOT_ALLOWED: the path exists, the method does not (405)
 * @BERTH_ERROR_CONFLICT: the object changed or is locked (409)
 * @BERTH_ERROR_TOO_LARGE: the request or a value is too large (413)
 * @BERTH_ERROR_UNPROCESSABLE: well-formed but semantically invalid (422)
 * @BERTH_ERROR_RATE_LIMITED: too many requests (429)
 * @BERTH_ERROR_NOT_IMPLEMENTED: the feature is not built (501)
 * @BERTH_ERROR_UNAVAILABLE: a dependency is not available right now (503)
 * @BERTH_ERROR_TIMEOUT: a dependency did not answer in time (504)
 *
 * Error codes in the %BERTH_ERROR domain.
 */
typedef enum {
  BERTH_ERROR_FAILED,
  BERTH_ERROR_INVALID,
  BERTH_ERROR_UNAUTHORIZED,
  BERTH_ERROR_DENIED,
  BERTH_ERROR_NOT_FOUND,
  BERTH_ERROR_METHOD_NOT_ALLOWED,
  BERTH_ERROR_CONFLICT,
  BERTH_ERROR_TOO_LARGE,
  BERTH_ERROR_UNPROCESSABLE,
  BERTH_ERROR_RATE_LIMITED,
  BERTH_ERROR_NOT_IMPLEMENTED,
  BERTH_ERROR_UNAVAILABLE,
  BERTH_ERROR_TIMEOUT,
} BerthError;

GQuark berth_error_quark (void);
guint  berth_error_to_http_status (const GError *error);

G_END_DECLS
