#include "realtime/fanout.h"

#include <gtest/gtest.h>

#include <deque>

namespace fp::realtime {
namespace {

using httpd::SseFrame;
using SendResult = httpd::SseStream::SendResult;

// An SseStream that records frames; its "socket" drains only when told to, and it overflows like the real
// stream: beyond max_frames unsent frames, the queue is discarded.
class FakeStream final : public httpd::SseStream {
 public:
  explicit FakeStream(size_t max_frames = 4) : max_frames_(max_frames) {}
  bool send(std::string_view, std::string_view, std::string_view) override { return false; }
  SendResult send_frame(SseFrame frame) override {
    if (closed_) return SendResult::kClosed;
    if (!queue_.empty() && queue_.size() >= max_frames_) {
      queue_.clear();
      return SendResult::kOverflow;
    }
    queue_.push_back(frame);
    return SendResult::kQueued;
  }
  size_t queued_bytes() const override {
    size_t n = 0;
    for (const auto& f : queue_) n += f->text().size();
    return n;
  }
  bool closed() const override { return closed_; }
  void close() override { closed_ = true; }
  void on_close(std::function<void()> cb) override { cb(); }

  // The client reads everything queued.
  void drain() {
    for (auto& f : queue_) received.push_back(f);
    queue_.clear();
  }
  std::vector<SseFrame> received;

 private:
  size_t max_frames_;
  std::deque<SseFrame> queue_;
  bool closed_ = false;
};

SseFrame frame(const char* text) {
  return std::make_shared<const httpd::SseFrameData>(text);
}

TEST(RealtimeFanout, NewViewerGetsTheSnapshotThenChangesAndFramesAreShared) {
  Fanout f;
  auto a = std::make_shared<FakeStream>();
  auto b = std::make_shared<FakeStream>();
  f.join(a);
  f.join(b);
  EXPECT_TRUE(f.wants_snapshot());
  // Without a snapshot a new viewer gets nothing, not even changes: they will be in its snapshot.
  auto st = f.tick(frame("c0"), nullptr, false);
  EXPECT_EQ(st.viewers, 2u);
  EXPECT_EQ(a->queued_bytes(), 0u);

  auto snap = frame("snap1");
  st = f.tick(frame("c1"), snap, false);
  EXPECT_EQ(st.snapshots, 2u);
  EXPECT_FALSE(f.wants_snapshot());
  auto c2 = frame("c2");
  f.tick(c2, nullptr, false);
  a->drain();
  b->drain();
  ASSERT_EQ(a->received.size(), 2u);
  EXPECT_EQ(a->received[0]->text(), "snap1");
  EXPECT_EQ(a->received[1]->text(), "c2");
  // One buffer for everyone.
  EXPECT_EQ(a->received[0].get(), b->received[0].get());
  EXPECT_EQ(a->received[1].get(), c2.get());
  EXPECT_EQ(b->received[1].get(), c2.get());
}

TEST(RealtimeFanout, SlowViewerDropsToASnapshotWhileOthersGetEveryChange) {
  Fanout f;
  auto fast = std::make_shared<FakeStream>(4);
  auto slow = std::make_shared<FakeStream>(4);
  f.join(fast);
  f.join(slow);
  f.tick(nullptr, frame("snap0"), false);
  fast->drain();
  slow->drain();
  size_t overflowed = 0;
  for (int i = 0; i < 10; ++i) {
    auto st = f.tick(frame(("c" + std::to_string(i)).c_str()), nullptr, false);
    overflowed += st.overflowed;
    fast->drain();  // the slow one never reads
  }
  EXPECT_EQ(overflowed, 1u);              // counted once, then it waits for its snapshot
  EXPECT_EQ(slow->queued_bytes(), 0u);    // its backlog was discarded, not grown
  EXPECT_EQ(fast->received.size(), 11u);  // snapshot + 10 changes
  EXPECT_TRUE(f.wants_snapshot());        // the laggard has drained
  f.tick(frame("c10"), frame("snap11"), false);
  f.tick(frame("c11"), nullptr, false);
  slow->drain();
  ASSERT_GE(slow->received.size(), 3u);
  EXPECT_EQ(slow->received[slow->received.size() - 2]->text(), "snap11");
  EXPECT_EQ(slow->received.back()->text(), "c11");
  EXPECT_EQ(f.viewer_count(), 2u);
}

TEST(RealtimeFanout, LaggardWithUnsentBytesWaitsForItsSnapshot) {
  Fanout f;
  auto v = std::make_shared<FakeStream>(2);
  f.join(v);
  f.tick(nullptr, frame("snap0"), false);  // not drained: one frame still queued
  f.tick(frame("c1"), nullptr, false);
  f.tick(frame("c2"), nullptr, false);  // overflow: the queue is discarded
  EXPECT_EQ(v->queued_bytes(), 0u);
  v->send_frame(frame("x"));  // something still unsent
  EXPECT_FALSE(f.wants_snapshot());
  auto st = f.tick(frame("c3"), frame("snap3"), false);
  EXPECT_EQ(st.snapshots, 0u);
}

TEST(RealtimeFanout, ResyncAllAndClosedViewers) {
  Fanout f;
  auto a = std::make_shared<FakeStream>();
  auto b = std::make_shared<FakeStream>();
  f.join(a);
  f.join(b);
  f.tick(nullptr, frame("snap0"), false);
  a->drain();
  b->drain();
  b->close();
  // The batch overflowed: the changes are lost, everyone gets the new snapshot.
  auto st = f.tick(nullptr, frame("snap1"), true);
  EXPECT_EQ(st.closed, 1u);
  EXPECT_EQ(st.viewers, 1u);
  EXPECT_EQ(st.snapshots, 1u);
  a->drain();
  EXPECT_EQ(a->received.back()->text(), "snap1");
  EXPECT_EQ(f.viewer_count(), 1u);
}

}  // namespace
}  // namespace fp::realtime
