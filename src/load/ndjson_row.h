// Validates one NDJSON line of an exported object against its table's columns and turns it into one COPY
// text-format row (columns in spec order, then _source_xid). Every column must be present exactly once
// with the right JSON type and no others may appear: the loader never guesses at a malformed record.
#pragma once

#include <simdjson.h>

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

 private:
  const TableSpec& spec_;
  simdjson::ondemand::parser parser_;
  std::vector<std::string> values_;
  std::vector<bool> seen_;
};

}  // namespace fp::batch
