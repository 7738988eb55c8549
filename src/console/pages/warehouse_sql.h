// SQL text the warehouse pages share (pages/batch.cpp, pages/runs.cpp).
#pragma once

// Timestamps as text in UTC, the same whatever the server's settings.
#define FP_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')"
