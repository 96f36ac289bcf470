/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

G_BEGIN_DECLS

/* Docker Engine API shapes <-> Berth's own container JSON (pure
 * functions, unit-tested): what BerthRuntime takes and gives. */

/* A Docker create body as a Berth container spec. */
JsonObject *runtime_docker_to_spec     (JsonObject  *create,
                                        GError     **error);
/* A Berth inspection (runtime_containers_inspect) as Docker's. */
JsonObject *runtime_docker_inspection  (JsonObject  *berth);

G_END_DECLS
