// The trip measurement in SQL: the column lists of the `trips` table (COPY, INSERT, SELECT), statement
// parameters in column order, and reading a selected row back. Every list comes from kFields
// (measurement.h), so a statement never spells the columns out by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/pg/params.h"
#include "common/pg/rows.h"
#include "common/trip/measurement.h"

namespace fp::trip {

// "vehicle_id, trip_id, ..., color": the columns for COPY, INSERT and a plain SELECT.
inline constexpr std::string_view kSqlColumns = names<',', ' '>();

// The columns for a SELECT or RETURNING list, each prefixed with `qualifier` ("t." or ""), the time as
// `time_expr` with "{}" standing for the (qualified) column, named measurement_time: with
// "floor(extract(epoch FROM {}))::bigint" the row reads back whole seconds, as Measurement keeps them.
std::string select_list(std::string_view qualifier, std::string_view time_expr);

// "$<first>, $<first+1>, ...": one parameter per column, for INSERT ... SELECT; the time's is cast to
// timestamp (it travels as text).
std::string placeholders(int first = 1);
// "$<first>::int[], ..., $<first+10>::text[]": one array parameter per column, for unnest().
std::string array_placeholders(int first = 1);
// The number of a column's parameter in placeholders(first) or array_placeholders(first).
constexpr int param_number(std::string_view column, int first = 1) {
  return first + static_cast<int>(column_index(column));
}

// One text parameter per column: the values of placeholders(); the time as "YYYY-MM-DD HH:MM:SS".
pg::Params to_params(const Measurement& m);
// One array literal per column ({"4","5"}), the values of array_placeholders() for many measurements.
pg::Params to_array_params(const std::vector<const Measurement*>& ms);

// Reads the columns of a select_list() from row `row`, starting at column `first`, into m; the time
// column's value goes to `time` (seconds or whatever unit the select_list's time_expr gave). Errors name
// the column.
Status read_row(const pg::Rows& rows, int row, int first, Measurement& m, int64_t& time);

}  // namespace fp::trip
