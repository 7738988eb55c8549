#include "load/ndjson_row.h"

#include <charconv>
#include <limits>

#include "common/batch/codec.h"

namespace fp::batch {

namespace {

using simdjson::ondemand::json_type;

std::string_view err_text(simdjson::error_code e) {
  return simdjson::error_message(e);
}

using JsonValue = simdjson::simdjson_result<simdjson::ondemand::value>;

// The slot of a field: its column's index in spec order, ncols for _source_xid, ncols + 1 for a field the
// table does not have.
size_t field_index(const TableSpec& spec, std::string_view key) {
  const size_t ncols = spec.columns.size();
  if (key == kSourceXidField) return ncols;
  size_t idx = ncols + 1;
  for (size_t i = 0; i < ncols; ++i)
    if (spec.columns[i].name == key) idx = i;
  return idx;
}

Status integer_text(JsonValue& value, json_type type, ColumnKind kind, std::string_view key, std::string& v) {
  int64_t n = 0;
  if (type != json_type::number || value.get_int64().get(n))
    return invalid_input("field {}: expected an integer", key);
  if (kind == ColumnKind::kInt32 &&
      (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()))
    return invalid_input("field {}: {} out of range for a 32-bit integer", key, n);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  v.assign(buf, r.ptr);
  return ok_status();
}

Status float_text(JsonValue& value, json_type type, std::string_view key, std::string& v) {
  if (type == json_type::string) {  // the exporter's spelling of non-finite values
    std::string_view s;
    if (value.get_string().get(s) || (s != "NaN" && s != "Infinity" && s != "-Infinity"))
      return invalid_input("field {}: expected a number", key);
    v = s;
    return ok_status();
  }
  double d = 0;
  if (type != json_type::number || value.get_double().get(d))
    return invalid_input("field {}: expected a number", key);
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest text that round-trips exactly
  v.assign(buf, r.ptr);
  return ok_status();
}

Status string_text(JsonValue& value, json_type type, ColumnKind kind, std::string_view key, std::string& v) {
  std::string_view s;
  if (type != json_type::string || value.get_string().get(s))
    return invalid_input("field {}: expected a string", key);
  if (kind == ColumnKind::kDate && (s.size() != 10 || s[4] != '-' || s[7] != '-'))
    return invalid_input("field {}: {:?} is not a 'YYYY-MM-DD' date", key, s);
  if ((kind == ColumnKind::kTimestamp || kind == ColumnKind::kTimestampTz) &&
      (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' '))
    return invalid_input("field {}: {:?} is not a 'YYYY-MM-DD HH:MM:SS' timestamp", key, s);
  copy_escape_append(v, s);
  return ok_status();
}

// A field's JSON value as its column's COPY text, into v (empty before); the JSON type must fit the kind.
Status value_text(JsonValue& value, ColumnKind kind, std::string_view key, std::string& v) {
  json_type type;
  if (auto e = value.type().get(type)) return invalid_input("field {}: {}", key, err_text(e));
  switch (kind) {
    case ColumnKind::kInt32:
    case ColumnKind::kInt64:
      return integer_text(value, type, kind, key, v);
    case ColumnKind::kFloat64:
      return float_text(value, type, key, v);
    case ColumnKind::kText:
    case ColumnKind::kTimestamp:
    case ColumnKind::kTimestampTz:
    case ColumnKind::kDate:
      return string_text(value, type, kind, key, v);
  }
  return ok_status();
}

}  // namespace

NdjsonRowParser::NdjsonRowParser(const TableSpec& spec)
    : spec_(spec), values_(spec.columns.size() + 1), seen_(spec.columns.size() + 1) {}

Status NdjsonRowParser::parse(std::string_view line, size_t readable, std::string& out) {
  if (readable < line.size() + simdjson::SIMDJSON_PADDING)
    return make_error("ndjson: buffer lacks simdjson padding");
  std::fill(seen_.begin(), seen_.end(), false);
  simdjson::ondemand::document doc;
  if (auto e = parser_.iterate(line.data(), line.size(), readable).get(doc))
    return invalid_input("not JSON: {}", err_text(e));
  simdjson::ondemand::object obj;
  if (auto e = doc.get_object().get(obj)) return invalid_input("not a JSON object: {}", err_text(e));
  const size_t ncols = spec_.columns.size();
  for (auto field : obj) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return invalid_input("bad field name: {}", err_text(e));
    const size_t idx = field_index(spec_, key);
    if (idx > ncols) return invalid_input("unexpected field {:?}", key);
    if (seen_[idx]) return invalid_input("field {:?} appears twice", key);
    seen_[idx] = true;
    auto value = field.value();
    std::string& v = values_[idx];
    v.clear();
    const ColumnKind kind = idx == ncols ? ColumnKind::kInt64 : spec_.columns[idx].kind;
    if (auto st = value_text(value, kind, key, v); !st) return st;
  }
  // Anything after the object's closing brace (a second document on one line) is malformed too.
  const char* end_loc = nullptr;
  if (!doc.current_location().get(end_loc)) return invalid_input("trailing content after the JSON object");
  for (size_t i = 0; i <= ncols; ++i)
    if (!seen_[i])
      return invalid_input("missing field {:?}", i == ncols ? kSourceXidField : spec_.columns[i].name);
  int64_t xid = 0;
  const std::string& xid_text = values_[ncols];
  std::from_chars(xid_text.data(), xid_text.data() + xid_text.size(), xid);
  if (xid < 0 || static_cast<uint64_t>(xid) < xid_from_ || static_cast<uint64_t>(xid) >= xid_to_)
    return invalid_input("field {}: {} outside the run's transaction range [{}, {})", kSourceXidField, xid,
                         xid_from_, xid_to_);
  for (size_t i = 0; i <= ncols; ++i) {
    out += values_[i];
    out += i == ncols ? '\n' : '\t';
  }
  return ok_status();
}

}  // namespace fp::batch
