// `verify`'s source->warehouse stage: the live rows of a table per day on both sides, as a row count and an
// order-independent checksum, sum(hashtext(canonical row text)), computed in SQL over the same canonical
// text; for a day that differs, the ids that differ. Rows that left a side by design count on their day
// still: the source's dropped partitions (trip_partitions) and the warehouse's dropped raw days
// (ops.raw_trip_drops), each with the figures recorded when it went.
//
// The whole history is not re-read on every check. The per-day figures of both sides are kept in the
// warehouse (ops.verify_days, per bucket prefix and table) with the positions the check saw
// (ops.verify_checkpoints): the source's export watermark and the warehouse's snapshot xmin. The next check
// reads again only the days that can have changed since:
//   - days of source rows written since the previous watermark (_export_xid), and of source deletes since
//     then (export_deletes.day);
//   - days of warehouse rows inserted since the previous check (raw._load_xid: every load stamps the rows it
//     writes), and the days any UPDATE, DELETE or TRUNCATE of raw.* touched since (old and new days, logged
//     by statement triggers into ops.raw_changed_days, whoever ran it: a hand-made change is read too);
//   - days where the warehouse holds an id the source has changed since the current watermark (those ids
//     are left out on both sides, and were not necessarily left out before);
//   - days that differed last time.
// A change that reaches only one side is found on the day it lands in (a missed update on the row's new
// day, a missed delete on the deleted row's day). What no log shows is a write with triggers disabled
// (session_replication_role = replica) or to the webapp database without its triggers; `verify
// --reread-all-days` reads every day again.
#pragma once

#include <cstdint>
#include <string>

#include "common/batch/layout.h"
#include "common/error.h"
#include "common/pg/connection.h"
#include "load/verify.h"

namespace fp::batch {

struct DayCheckOptions {
  std::string prefix;            // the checksums kept are per bucket prefix
  bool reread_all_days = false;  // ignore the kept checksums: read every day on both sides
};

// The SQL expression of a row's canonical text (the spec's columns in order, '|'-separated, in the text
// forms of text_stable_session): sum(hashtext(...)) over a set of rows is the checksum both sides compare,
// and what `fleetpipe retain` records for a dropped partition.
std::string canonical_row_text(const TableSpec& t);

// `watermark`: the newest committed export run's xid_to; the source's rows below it are compared.
Result<VerifyLine> source_to_warehouse(pg::Connection& src, pg::Connection& dw, const TableSpec& t,
                                       uint64_t watermark, const DayCheckOptions& opts);

}  // namespace fp::batch
