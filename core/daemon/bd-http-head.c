/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "bd-http-head.h"

static const guint8 *
find_byte (const guint8 *data, gsize len, guint8 byte)
{
  return memchr (data, byte, len);
}

/* The request target of a request line: between its first two spaces. */
static gsize
target_length (const guint8 *line, gsize line_len)
{
  const guint8 *sp1 = find_byte (line, line_len, ' ');
  const guint8 *sp2 = sp1 != NULL ? find_byte (sp1 + 1, line_len - (gsize) (sp1 + 1 - line), ' ') : NULL;

  if (sp1 == NULL)
    return line_len;
  if (sp2 == NULL)
    return line_len - (gsize) (sp1 + 1 - line);
  return (gsize) (sp2 - sp1 - 1);
}

static BdHttpHeadResult
refuse (guint code, char *text, guint *status, char **message)
{
  *status = code;
  *message = text;
  return BD_HTTP_HEAD_REFUSED;
}

/* Scans the start of a request for its head (request line, fields, blank
 * line) against the limits: 414 for a long target, 431 for too many
 * fields or too many bytes. */
BdHttpHeadResult
bd_http_head_scan (const guint8 *data, gsize len, const BdHttpLimits *limits, gsize *head_len,
                   guint *status, char **message)
{
  const guint8 *eol;
  gsize pos, line_len, end = 0;
  guint count = 0;

  if (len == 0)
    return BD_HTTP_HEAD_INCOMPLETE;
  eol = find_byte (data, len, '\n');
  line_len = eol != NULL ? (gsize) (eol - data) : len;
  if (target_length (data, line_len) > limits->max_url_bytes)
    return refuse (SOUP_STATUS_REQUEST_URI_TOO_LONG,
                   g_strdup_printf (_("The request URL is longer than %u bytes"),
                                    limits->max_url_bytes), status, message);
  if (eol != NULL)
    {
      pos = line_len + 1;
      while (pos < len)
        {
          const guint8 *nl = find_byte (data + pos, len - pos, '\n');
          gsize n;
          if (nl == NULL)
            break;
          n = (gsize) (nl - (data + pos));
          if (n == 0 || (n == 1 && data[pos] == '\r'))
            {
              end = (gsize) (nl + 1 - data);
              break;
            }
          count++;
          pos = (gsize) (nl + 1 - data);
        }
      if (count > limits->max_header_count)
        return refuse (BD_HTTP_STATUS_HEADER_FIELDS_TOO_LARGE,
                       g_strdup_printf (_("The request has more than %u header fields"),
                                        limits->max_header_count), status, message);
    }
  if ((end == 0 && len > limits->max_header_bytes) || end > limits->max_header_bytes)
    return refuse (BD_HTTP_STATUS_HEADER_FIELDS_TOO_LARGE,
                   g_strdup_printf (_("The request head is larger than %u bytes"),
                                    limits->max_header_bytes), status, message);
  if (end == 0)
    return BD_HTTP_HEAD_INCOMPLETE;
  *head_len = end;
  return BD_HTTP_HEAD_COMPLETE;
}

static const char *
status_phrase (guint status)
{
  switch (status)
    {
    case BD_HTTP_STATUS_TOO_MANY_REQUESTS:
      return "Too Many Requests";
    case BD_HTTP_STATUS_HEADER_FIELDS_TOO_LARGE:
      return "Request Header Fields Too Large";
    default:
      return soup_status_get_phrase (status);
    }
}

/* A whole answer, `{"message": …}`, with Connection: close. */
GBytes *
bd_http_reply_new (guint status, const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *body = NULL;
  GString *text;
  gsize len = 0;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, &len);
  text = g_string_new (NULL);
  g_string_append_printf (text,
                          "HTTP/1.1 %u %s\r\n"
                          "Server: berthd/%s\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Connection: close\r\n"
                          "\r\n",
                          status, status_phrase (status), BERTH_VERSION, len);
  g_string_append_len (text, body, (gssize) len);
  return g_string_free_to_bytes (text);
}
