#include "generator/batch_reader.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/shutdown.h"

namespace fp::gen {

namespace {

constexpr uint64_t kRejectionsLogged = 10000;

}  // namespace

void report_rejection(uint64_t line, const std::string& reason, uint64_t nth, bool csv) {
  if (nth <= kRejectionsLogged) {
    log::emit(log::Level::kWarn, kGenerateLog, fmt::format("{} {}: {}", csv ? "line" : "row", line, reason),
              {{"line", line}, {"reason", reason}});
  } else if (nth == kRejectionsLogged + 1) {
    log::warn(kGenerateLog, "more than {} rejected rows; the rest are counted, not listed",
              kRejectionsLogged);
  }
}

bool BatchQueue::push(Batch b) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return q_.size() < capacity_ || stopped_; });
  if (stopped_) return false;
  q_.push_back(std::move(b));
  cv_.notify_all();
  return true;
}

void BatchQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

void BatchQueue::stop() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

std::optional<Batch> BatchQueue::pop() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !q_.empty() || closed_; });
  if (q_.empty()) return std::nullopt;
  Batch b = std::move(q_.front());
  q_.pop_front();
  cv_.notify_all();
  return b;
}

void BatchReader::run() {
  start_ = Pacer::Clock::now();
  cur_.end_position = source_.position();
  bool writer_stopped = false;
  while (!shutdown::requested()) {
    auto n = source_.next(m_, reason_);
    if (!n.ok()) {
      error_ = std::move(n).error();
      break;
    }
    if (*n == Source::Next::kEnd) {
      source_ended_ = true;
      break;
    }
    if (*n == Source::Next::kRejected) {
      count_rejection();
      continue;
    }
    const Paced paced = wait_until_due();
    if (paced == Paced::kWriterStopped) {
      writer_stopped = true;
      break;
    }
    if (paced == Paced::kShutdown) break;  // this row is not in the checkpoint, a resume reads it again
    add_row();
    if (cur_.rows >= o_.batch_rows && !hand_off()) {
      writer_stopped = true;
      break;
    }
  }
  if (!writer_stopped && (cur_.rows > 0 || cur_.rejected > 0)) hand_off();
  queue_.close();
}

// Sleeps until the pacing says the row in hand is due.
BatchReader::Paced BatchReader::wait_until_due() {
  const auto due = pacer_.due(index_, m_.measurement_time);
  if (!due) return Paced::kDue;
  const auto target = start_ + *due;
  if (target <= Pacer::Clock::now()) return Paced::kDue;
  // Don't hold rows already in hand while waiting longer than the latency allows.
  if (cur_.rows > 0 && target - batch_started_ >= o_.max_latency && !hand_off()) return Paced::kWriterStopped;
  return wait_until(target) ? Paced::kDue : Paced::kShutdown;
}

// A rejected row still moves the batch's end position, so the checkpoint passes it.
void BatchReader::count_rejection() {
  report_rejection(source_.position(), reason_, ++rejected_seen_, !o_.simulate);
  ++cur_.rejected;
  cur_.end_position = source_.position();
}

void BatchReader::add_row() {
  if (seen_.insert(m_.vehicle_id).second) {
    Vehicle v = vehicle_for(m_.vehicle_id);
    v.fuel_capacity = m_.fuel_capacity;  // the input's values win over the derived ones
    v.color = m_.color;
    cur_.new_vehicles.push_back(std::move(v));
  }
  if (cur_.rows == 0) batch_started_ = Pacer::Clock::now();
  cur_.add(m_, formats_);
  cur_.end_position = source_.position();
  ++index_;
}

// Queues the batch in hand and starts the next one where it ended; false when the writer stopped.
bool BatchReader::hand_off() {
  const uint64_t pos = cur_.end_position;
  bool ok = queue_.push(std::move(cur_));
  cur_ = Batch{};
  cur_.end_position = pos;
  return ok;
}

}  // namespace fp::gen
