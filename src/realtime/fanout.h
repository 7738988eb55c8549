// The dashboard's viewers and the policy for feeding them. Once per tick the service hands over one shared
// frame with the tick's changes (and, when someone needs it, one shared snapshot frame); every viewer's queue
// then holds a pointer to the same buffers, so 500 viewers cost one serialisation, not 500.
//
// A viewer that falls behind (its queue beyond the stream's bounds) is not disconnected and does not make
// the server buffer without bound: its unsent changes are discarded and it is marked for a snapshot, which
// it gets, instead of further changes, once its socket has drained. A new viewer starts the same way, so a
// viewer always sees a snapshot and then every change after it, in order.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "common/http/server.h"

namespace fp::realtime {

class Fanout {
 public:
  // Thread-safe (HTTP worker threads): the viewer gets its first snapshot at a coming tick.
  void join(std::shared_ptr<httpd::SseStream> stream);

  // Thread-safe. True when a tick given a snapshot would send it to someone: a viewer joined, or one that
  // needs a snapshot has drained its queue. Lets the caller build the snapshot only then.
  bool wants_snapshot() const;

  struct TickStats {
    size_t viewers = 0;     // connected after the tick (joining ones included)
    size_t snapshots = 0;   // snapshots sent (joins and resyncs)
    size_t overflowed = 0;  // viewers that fell behind in this tick and now wait for a snapshot
    size_t closed = 0;      // viewers found gone
  };
  // One thread calls this, once per tick. `changes` (null: nothing changed) goes to the viewers in step;
  // `snapshot` (null: not built) to the joining ones and drained laggards. resync_all: the changes since the
  // last tick were lost (the batch overflowed), so every viewer needs a snapshot.
  TickStats tick(const httpd::SseFrame& changes, const httpd::SseFrame& snapshot, bool resync_all);

  size_t viewer_count() const;

 private:
  struct Viewer {
    std::shared_ptr<httpd::SseStream> stream;
    bool needs_snapshot = true;
  };
  mutable std::mutex mu_;
  std::vector<Viewer> viewers_;
};

}  // namespace fp::realtime
