# SPDX-License-Identifier: LGPL-2.1-or-later
# Integration tests: berthd started for real, driven by real clients.
