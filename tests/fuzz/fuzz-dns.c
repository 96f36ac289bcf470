/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"

/* DNS: the input is one query packet, sent over UDP to the discovery
 * plugin's listener (discovery-dns.c reads it, discovery-dns-answer.c
 * parses it with ldns and answers it). The catalog holds a few services
 * so that names resolve: web (tags v1, v2; 10.0.0.1 and 10.0.0.2), db on
 * an IPv6 address, and the node "fuzz". */

static int client = -1;
static struct sockaddr_in server;

static const char * const services[] = {
  "{\"ID\":\"web1\",\"Name\":\"web\",\"Tags\":[\"v1\"],\"Address\":\"10.0.0.1\",\"Port\":80}",
  "{\"ID\":\"web2\",\"Name\":\"web\",\"Tags\":[\"v2\"],\"Address\":\"10.0.0.2\",\"Port\":8080}",
  "{\"ID\":\"db1\",\"Name\":\"db\",\"Address\":\"fd00::1\",\"Port\":5432,\"Meta\":{\"k\":\"v\"}}",
  "{\"ID\":\"bare\",\"Name\":\"bare\",\"Port\":1}",
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_log_install ();
  fuzz_forbid_exec ();
  fuzz_daemon_start ("runtime;scheduler", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    {
      guint status = fuzz_http_json ("PUT", "/v1/agent/service/register",
                                     (const guint8 *) services[i], strlen (services[i]));
      if (status != 200)
        g_error ("fuzz-dns: registering %s: HTTP %u", services[i], status);
    }

  server.sin_family = AF_INET;
  server.sin_port = htons (fuzz_daemon_dns_port ());
  server.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  client = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (client < 0)
    g_error ("fuzz-dns: socket: %s", g_strerror (errno));
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint8 reply[65536];
  guint idle = 0;

  /* a reply left over from a query answered late */
  while (recv (client, reply, sizeof reply, 0) > 0)
    ;
  if (sendto (client, data, size, 0, (struct sockaddr *) &server, sizeof server) < 0)
    return 0;
  /* most answers are written while the datagram is read; some (forwarded,
   * another datacenter's) come later, and some queries get none at all */
  while (idle < 5)
    {
      if (recv (client, reply, sizeof reply, 0) >= 0)
        break;
      if (g_main_context_pending (NULL))
        {
          fuzz_main_context_drain (64);
          idle = 0;
        }
      else
        {
          struct pollfd pfd = { .fd = client, .events = POLLIN };
          poll (&pfd, 1, 1);
          idle++;
        }
    }
  return 0;
}
