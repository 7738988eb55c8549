// A batch of rows on its way from the source to the sinks, already formatted for each of them (COPY text
// for PostgreSQL, the seed's JSON for Kafka, CSV for a file), so the writer thread only moves bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/trip/text.h"
#include "generator/fleet.h"

namespace fp::gen {

struct Batch {
  uint64_t rows = 0;
  uint64_t rejected = 0;      // rejected lines inside this batch's input range
  uint64_t end_position = 0;  // the source position after the batch's last line: the checkpoint
  std::string copy_text;
  std::vector<int64_t> times;  // each COPY row's measurement_time: the partitions it needs (pg_sink)
  std::string json;
  std::vector<uint32_t> json_end;  // end offset of each row's JSON in `json`
  std::vector<int32_t> keys;       // each row's vehicle id (the Kafka key)
  std::string csv;
  std::vector<Vehicle> new_vehicles;  // first seen in this run within this batch: upserted before its rows

  struct Formats {
    bool copy = false, json = false, csv = false;
  };
  void add(const trip::Measurement& m, const Formats& f) {
    ++rows;
    if (f.copy) {
      trip::append_copy_text(copy_text, m);
      times.push_back(m.measurement_time);
    }
    if (f.json) {
      trip::append_json(json, m);
      json_end.push_back(static_cast<uint32_t>(json.size()));
      keys.push_back(m.vehicle_id);
    }
    if (f.csv) trip::append_csv(csv, m);
  }
  std::string_view json_at(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : json_end[i - 1];
    return std::string_view(json).substr(begin, json_end[i] - begin);
  }
};

}  // namespace fp::gen
