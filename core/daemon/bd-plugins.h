/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <berth.h>

#include "bd-config.h"

G_BEGIN_DECLS

char    *bd_plugins_default_dir (void);
gboolean bd_plugins_load        (BerthContext   *context,
                                 const char     *dir,
                                 const BdConfig *config,
                                 GError        **error);
gboolean bd_plugins_start       (BerthContext   *context,
                                 const BdConfig *config,
                                 GError        **error);
void     bd_plugins_stop        (BerthContext   *context);
void     bd_plugins_reload      (BerthContext   *context);

G_END_DECLS
