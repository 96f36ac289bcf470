/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The listener's insides, shared by bd-listener.c (a connection's life:
 * request heads, requests handed to libsoup, answers berthd gives itself)
 * and bd-listener-accept.c (listening sockets, accepting connections
 * within the caps, HTTPS relays). */

#include "bd-http-stream.h"
#include "bd-http-tls.h"
#include "bd-listener.h"

G_BEGIN_DECLS

#define LINGER_MS           2000
#define LINGER_MAX_BYTES    (8 * 1024 * 1024)
#define ACCEPT_RETRY_MS     250
#define ACCEPTS_PER_WAKEUP  64
#define READ_CHUNK          4096

typedef enum {
  CONN_HEAD,
  CONN_REQUEST,
  CONN_LINGER,
} ConnState;

typedef struct _Conn Conn;

struct _Conn {
  BdListener        *listener;
  GSocket           *socket;       /* what requests are read from */
  BdTlsRelay        *relay;        /* HTTPS: decrypts the client's socket into socket */
  GSocket           *client_socket; /* the client's own socket */
  GSocketAddress    *local;
  GSocketAddress    *remote;
  char              *client;       /* key of the per-client count */
  gboolean           is_unix;
  BerthZone          zone;         /* of the listener it came through */
  ConnState          state;
  GByteArray        *buf;          /* read, not yet handed to libsoup */
  GSource           *watch;
  GSource           *timer;
  GSource           *advance;
  BdHttpStream      *stream;
  SoupServerMessage *msg;
  gulong             got_body_id;
  gboolean           head_started; /* a byte of the current head arrived */
  gboolean           got_body;
  guint64            delivered;    /* request bytes read at the last check */
  gboolean           keepalive;    /* the request allows another one */
  gboolean           completed;    /* libsoup sent the whole response */
  gboolean           peer_gone;
  guint              requests;
  gsize              discarded;
};

typedef struct {
  BdListener *self;
  GSocket    *socket;
  BerthZone   zone;
  gboolean    tls;
  GSource    *source;
  GSource    *retry;
} Listen;

struct _BdListener {
  SoupServer   *server;
  BdHttpLimits  limits;           /* allowed_origins is not used here */
  guint         max_connections;  /* limits.max_connections within RLIMIT_NOFILE */
  GPtrArray    *listens;
  GHashTable   *conns;            /* Conn * set */
  GHashTable   *per_client;       /* client key → count */
  BerthTlsProvider *tls_provider; /* for HTTPS listeners */
  gboolean      tls_require_client_certificate;
  GHashTable   *relays;           /* BdTlsRelay * set, each holding a reference */
  Conn         *accepting;
  gulong        started_id;
  gulong        finished_id;
  gint64        last_fd_warning;
};
/* bd-listener.c */
void      bd_listener_clear_source    (GSource          **source);
GSource  *bd_listener_attach          (GSource           *source,
                                       GSourceFunc        func,
                                       gpointer           data);
/* Best effort: the answers are small enough for an empty socket buffer. */
void      bd_listener_send_all        (GSocket           *socket,
                                       GBytes            *bytes);
/* Waits for the connection's (next) request head. */
void      bd_listener_conn_start_head (Conn              *c);

/* bd-listener-accept.c */
void      bd_listener_listen_free     (Listen            *l);

G_END_DECLS
