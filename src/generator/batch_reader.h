// The reading half of `fleetpipe generate` (generator/runner.h): a thread that pulls rows from the source,
// paces them, formats them into batches and hands each batch to the writer through a bounded queue.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/error.h"
#include "generator/batch.h"
#include "generator/pacing.h"
#include "generator/runner.h"
#include "generator/source.h"

namespace fp::gen {

// The log component of every `fleetpipe generate` line.
inline constexpr std::string_view kGenerateLog = "generate";

// A rejected input row as a warning; after the first 10 000 one line says the rest are only counted.
// `csv`: the position is a CSV line number (else a simulator row).
void report_rejection(uint64_t line, const std::string& reason, uint64_t nth, bool csv);

// A bounded hand-off between the reader thread and the writer: at most `capacity` batches in flight keeps
// memory flat however fast the source is.
class BatchQueue {
 public:
  explicit BatchQueue(size_t capacity) : capacity_(capacity) {}
  // False when the consumer stopped.
  bool push(Batch b);
  // The producer has no more batches: pop() returns nullopt once the queue is drained.
  void close();
  // The consumer stopped: a blocked push() returns false.
  void stop();
  std::optional<Batch> pop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> q_;
  size_t capacity_;
  bool closed_ = false, stopped_ = false;
};

// The reader thread's body: run() reads until the source ends, fails, shutdown is requested or the writer
// stops the queue, hands off what it holds (unless the writer stopped) and closes the queue.
class BatchReader {
 public:
  BatchReader(const GenerateOptions& options, Batch::Formats formats, Source& source, BatchQueue& queue)
      : o_(options), formats_(formats), source_(source), queue_(queue), pacer_(options.pacing) {}

  void run();

  // Read once run() has returned (the thread joined).
  const std::optional<Error>& error() const { return error_; }
  bool source_ended() const { return source_ended_.load(); }

 private:
  enum class Paced { kDue, kWriterStopped, kShutdown };

  Paced wait_until_due();
  void count_rejection();
  void add_row();
  bool hand_off();

  const GenerateOptions& o_;
  const Batch::Formats formats_;
  Source& source_;
  BatchQueue& queue_;
  Pacer pacer_;
  Pacer::Clock::time_point start_{}, batch_started_{};
  std::set<int32_t> seen_;  // vehicles already sent in this run
  Batch cur_;
  uint64_t index_ = 0, rejected_seen_ = 0;
  trip::Measurement m_;
  std::string reason_;
  std::optional<Error> error_;
  std::atomic<bool> source_ended_{false};
};

}  // namespace fp::gen
