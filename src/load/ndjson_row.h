// Validates one NDJSON line of an exported object against its table's columns and turns it into one COPY
// text-format row (columns in spec order, then _source_xid). Every column must be present exactly once
// with the right JSON type and no others may appear: the loader never guesses at a malformed record.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/batch/layout.h"
#include "common/error.h"

namespace fp::batch {

class NdjsonRowParser {
 public:
  explicit NdjsonRowParser(const TableSpec& spec);
  // `line` must be followed by at least simdjson::SIMDJSON_PADDING readable bytes (the caller's buffer
  // reserves them). Appends "v1\tv2\t...\n" to out; on error out is left as it was.
  Status parse(std::string_view line, size_t readable, std::string& out);
  // Every line's _source_xid must then lie in [from, to): the range of the run whose manifest lists the
  // object. A version from outside it (a planted "newest" version) would pin its row against later updates.
  void require_xid_range(uint64_t from, uint64_t to) {
    xid_from_ = from;
    xid_to_ = to;
  }

 private:
  const TableSpec& spec_;
  uint64_t xid_from_ = 0, xid_to_ = UINT64_MAX;
  simdjson::ondemand::parser parser_;
  std::vector<std::string> values_;
  std::vector<bool> seen_;
};

}  // namespace fp::batch
