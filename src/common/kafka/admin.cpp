#include "common/kafka/admin.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <thread>
#include <tuple>

#include "common/log.h"

namespace fp::kafka {

namespace {
constexpr std::string_view kComponent = "kafka";
// The local wait for an admin result exceeds the request timeout a little, so librdkafka's own timeout
// (a clear ERR__TIMED_OUT event) normally wins over ours.
constexpr Millis kResultMargin{2000};

// RAII for the C objects; each deleter is the matching rd_kafka_*_destroy.
template <typename T, void (*Destroy)(T*)>
struct CDeleter {
  void operator()(T* p) const {
    if (p) Destroy(p);
  }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, CDeleter<rd_kafka_t, rd_kafka_destroy>>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, CDeleter<rd_kafka_queue_t, rd_kafka_queue_destroy>>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, CDeleter<rd_kafka_event_t, rd_kafka_event_destroy>>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t,
                                   CDeleter<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>>;
using NewTopicPtr =
    std::unique_ptr<rd_kafka_NewTopic_t, CDeleter<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>>;
using DeleteTopicPtr =
    std::unique_ptr<rd_kafka_DeleteTopic_t, CDeleter<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy>>;
using ConfigResourcePtr =
    std::unique_ptr<rd_kafka_ConfigResource_t,
                    CDeleter<rd_kafka_ConfigResource_t, rd_kafka_ConfigResource_destroy>>;
using GroupOffsetsPtr =
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t,
                    CDeleter<rd_kafka_ListConsumerGroupOffsets_t, rd_kafka_ListConsumerGroupOffsets_destroy>>;
using PartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t,
                    CDeleter<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, decltype([](const rd_kafka_metadata_t* m) {
                                      if (m) rd_kafka_metadata_destroy(m);
                                    })>;

// Raw pointer arrays for the C calls, borrowed from owning vectors.
template <typename Ptr>
auto raw(const std::vector<Ptr>& owned) {
  std::vector<typename Ptr::pointer> out;
  for (const auto& p : owned) out.push_back(p.get());
  return out;
}

}  // namespace

struct Admin::Impl {
  // DescribeConfigs of one topic: `take` sees each of its entries (a failing one ends the walk).
  Status each_topic_config(const std::string& name, const std::string& what,
                           const std::function<Status(const rd_kafka_ConfigEntry_t*)>& take);

  AdminOptions options;
  HandlePtr rk;

  int timeout_ms() const { return static_cast<int>(options.timeout.count()); }

  Result<OptionsPtr> admin_options(rd_kafka_admin_op_t op, bool operation_timeout) {
    OptionsPtr o(rd_kafka_AdminOptions_new(rk.get(), op));
    if (!o) return make_error("rd_kafka_AdminOptions_new returned null");
    char errstr[256];
    if (rd_kafka_AdminOptions_set_request_timeout(o.get(), timeout_ms(), errstr, sizeof(errstr)) ||
        (operation_timeout &&
         rd_kafka_AdminOptions_set_operation_timeout(o.get(), timeout_ms(), errstr, sizeof(errstr))))
      return invalid_input("admin timeout {} ms: {}", timeout_ms(), errstr);
    return o;
  }

  // Waits for the single result event of an admin call on `queue` and checks its request-level error.
  Result<EventPtr> await(rd_kafka_queue_t* queue, rd_kafka_event_type_t expected) {
    auto wait = options.timeout + kResultMargin;
    EventPtr ev(rd_kafka_queue_poll(queue, static_cast<int>(wait.count())));
    if (!ev) return transient_error("no admin result within {} ms", wait.count());
    if (rd_kafka_event_type(ev.get()) != expected)
      return make_error("unexpected admin event {}", rd_kafka_event_name(ev.get()));
    if (auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return kafka_error(err, "request", rd_kafka_event_error_string(ev.get()));
    return ev;
  }

  // One ListConsumerGroupOffsets round trip: the group's committed offsets on `partitions`, or on every
  // partition it has committed on when that is null. Nothing committed comes back as offset -1.
  Result<std::vector<CommittedOffset>> committed_offsets(const std::string& group,
                                                         const rd_kafka_topic_partition_list_t* partitions,
                                                         const std::string& what) {
    OptionsPtr opts = FP_TRY(admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, false), what);
    std::vector<GroupOffsetsPtr> requests;
    requests.emplace_back(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions));
    QueuePtr queue(rd_kafka_queue_new(rk.get()));
    auto raw_requests = raw(requests);
    rd_kafka_ListConsumerGroupOffsets(rk.get(), raw_requests.data(), raw_requests.size(), opts.get(),
                                      queue.get());
    EventPtr ev = FP_TRY(await(queue.get(), RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT), what);
    size_t n = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev.get()), &n);
    std::vector<CommittedOffset> out;
    for (size_t i = 0; i < n; ++i) {
      if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i]))
        return kafka_error(rd_kafka_error_code(e), what, rd_kafka_error_string(e));
      const rd_kafka_topic_partition_list_t* list = rd_kafka_group_result_partitions(groups[i]);
      for (int j = 0; list && j < list->cnt; ++j) {
        const auto& tp = list->elems[j];
        if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR)
          return kafka_error(tp.err, fmt::format("{}: {}[{}]", what, tp.topic, tp.partition));
        out.push_back(CommittedOffset{tp.topic, tp.partition, tp.offset >= 0 ? tp.offset : -1});
      }
    }
    return out;
  }

  Result<MetadataPtr> metadata() {
    const rd_kafka_metadata_t* md = nullptr;
    // all_topics=1: asking for one named topic could make a broker with auto.create.topics.enable create it.
    auto err = rd_kafka_metadata(rk.get(), 1, nullptr, &md, timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error(err, "metadata");
    return MetadataPtr(md);
  }

  static TopicInfo info_of(const rd_kafka_metadata_topic_t& t) {
    return TopicInfo{t.topic, t.partition_cnt, t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0};
  }

  Result<TopicInfo> topic_info(const std::string& name) {
    auto md = FP_TRY(metadata(), fmt::format("topic {}", name));
    for (int i = 0; i < md->topic_cnt; ++i) {
      const auto& t = md->topics[i];
      if (name != t.topic) continue;
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error(t.err, fmt::format("topic {}", name));
      return info_of(t);
    }
    return Error{fmt::format("topic {} does not exist", name), Error::Kind::kNotFound};
  }

  // New topics take a moment to appear in every broker's metadata; wait so callers can use them at once.
  Result<TopicInfo> await_topic(const std::string& name) {
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    for (;;) {
      Result<TopicInfo> info = topic_info(name);
      if (info.ok() && info->partitions > 0) return info;
      bool retry = !info.ok() && (info.error().kind == Error::Kind::kNotFound || info.error().transient());
      if (!retry || std::chrono::steady_clock::now() >= deadline)
        return info.ok() ? transient_error("topic {} has no partitions yet", name) : info.error();
      std::this_thread::sleep_for(Millis(100));
    }
  }
};

int64_t partition_lag(int64_t committed, int64_t low, int64_t high) {
  const int64_t from = committed >= 0 ? committed : low;
  return high > from ? high - from : 0;
}

Admin::Admin(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Admin::~Admin() = default;

Result<std::unique_ptr<Admin>> Admin::create(AdminOptions options) {
  FP_CHECK(validate_bootstrap(options.bootstrap), "create admin client");
  if (options.timeout.count() < 1) return invalid_input("create admin client: timeout must be positive");
  ConfigMap props = options.extra;
  props["bootstrap.servers"] = options.bootstrap;
  props["client.id"] = options.client_id;
  CConfPtr conf = FP_TRY(make_c_conf(props), "create admin client");
  auto impl = std::make_unique<Impl>();
  char errstr[512];
  // Admin requests need a client handle of either type; a producer handle joins no group.
  impl->rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr)));
  if (!impl->rk) return invalid_input("create admin client: {}", errstr);
  conf.release();  // NOLINT(bugprone-unused-return-value): rd_kafka_new took ownership
  impl->options = std::move(options);
  return std::unique_ptr<Admin>(new Admin(std::move(impl)));
}

Result<std::vector<TopicCreation>> Admin::create_topics(const std::vector<TopicSpec>& specs) {
  if (specs.empty()) return std::vector<TopicCreation>{};
  std::vector<NewTopicPtr> topics;
  std::map<std::string, const TopicSpec*> by_name;
  char errstr[512];
  for (const auto& s : specs) {
    NewTopicPtr t(
        rd_kafka_NewTopic_new(s.name.c_str(), s.partitions, s.replication_factor, errstr, sizeof(errstr)));
    if (!t) return invalid_input("create topic {}: {}", s.name, errstr);
    for (const auto& [k, v] : s.configs) {
      if (auto err = rd_kafka_NewTopic_set_config(t.get(), k.c_str(), v.c_str()); err)
        return kafka_error(err, fmt::format("create topic {}: config {}={}", s.name, k, v));
    }
    by_name[s.name] = &s;
    topics.push_back(std::move(t));
  }
  auto what =
      fmt::format("create topics {}", specs.size() == 1 ? specs[0].name : std::to_string(specs.size()));
  OptionsPtr opts = FP_TRY(impl_->admin_options(RD_KAFKA_ADMIN_OP_CREATETOPICS, true), what);
  QueuePtr queue(rd_kafka_queue_new(impl_->rk.get()));
  auto raw_topics = raw(topics);
  rd_kafka_CreateTopics(impl_->rk.get(), raw_topics.data(), raw_topics.size(), opts.get(), queue.get());
  EventPtr ev = FP_TRY(impl_->await(queue.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT), what);

  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  std::vector<TopicCreation> out;
  for (size_t i = 0; i < n; ++i) {
    std::string name = rd_kafka_topic_result_name(results[i]);
    auto err = rd_kafka_topic_result_error(results[i]);
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      return kafka_error(err, fmt::format("create topic {}", name), detail ? detail : "");
    TopicInfo info =
        FP_TRY(impl_->await_topic(name), fmt::format("create topic {}: wait for metadata", name));
    TopicCreation c{name, err == RD_KAFKA_RESP_ERR_NO_ERROR, info.partitions, false};
    if (auto it = by_name.find(name);
        it != by_name.end() && !c.created && info.partitions != it->second->partitions) {
      c.partition_mismatch = true;
      log::warn(kComponent, "topic {} already exists with {} partition(s), not the {} requested", name,
                info.partitions, it->second->partitions);
    }
    log::info(kComponent, "topic {} {} ({} partition(s))", name, c.created ? "created" : "already exists",
              info.partitions);
    out.push_back(std::move(c));
  }
  return out;
}

Result<TopicCreation> Admin::create_topic(const TopicSpec& spec) {
  auto all = FP_TRY(create_topics({spec}), "create topic");
  if (all.size() != 1) return make_error("create topic {}: {} results for one topic", spec.name, all.size());
  return std::move(all[0]);
}

Status Admin::delete_topic(const std::string& name) {
  auto what = fmt::format("delete topic {}", name);
  std::vector<DeleteTopicPtr> topics;
  topics.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
  OptionsPtr opts = FP_TRY(impl_->admin_options(RD_KAFKA_ADMIN_OP_DELETETOPICS, true), what);
  QueuePtr queue(rd_kafka_queue_new(impl_->rk.get()));
  auto raw_topics = raw(topics);
  rd_kafka_DeleteTopics(impl_->rk.get(), raw_topics.data(), raw_topics.size(), opts.get(), queue.get());
  EventPtr ev = FP_TRY(impl_->await(queue.get(), RD_KAFKA_EVENT_DELETETOPICS_RESULT), what);
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    return kafka_error(err, what, detail ? detail : "");
  }
  return ok_status();
}

Result<std::vector<TopicInfo>> Admin::list_topics(bool include_internal) {
  auto md = FP_TRY(impl_->metadata(), "list topics");
  std::vector<TopicInfo> out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;     // e.g. a topic being deleted
    if (!include_internal && t.topic[0] == '_') continue;  // __consumer_offsets, __transaction_state
    out.push_back(Impl::info_of(t));
  }
  std::sort(out.begin(), out.end(), [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  return out;
}

Result<TopicInfo> Admin::topic_info(const std::string& name) {
  return impl_->topic_info(name);
}

// DescribeConfigs of one topic: `take` sees each of its entries (a failing one ends the walk).
Status Admin::Impl::each_topic_config(const std::string& name, const std::string& what,
                                      const std::function<Status(const rd_kafka_ConfigEntry_t*)>& take) {
  std::vector<ConfigResourcePtr> resources;
  resources.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
  OptionsPtr opts = FP_TRY(admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, false), what);
  QueuePtr queue(rd_kafka_queue_new(rk.get()));
  auto raw_resources = raw(resources);
  rd_kafka_DescribeConfigs(rk.get(), raw_resources.data(), raw_resources.size(), opts.get(), queue.get());
  EventPtr ev = FP_TRY(await(queue.get(), RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT), what);
  size_t n = 0;
  const rd_kafka_ConfigResource_t** res =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_ConfigResource_error(res[i]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* detail = rd_kafka_ConfigResource_error_string(res[i]);
      return kafka_error(err, what, detail ? detail : "");
    }
    size_t cnt = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(res[i], &cnt);
    for (size_t j = 0; j < cnt; ++j) FP_CHECK(take(entries[j]), what);
  }
  return ok_status();
}

Result<TopicDescription> Admin::describe_topic(const std::string& name) {
  auto what = fmt::format("describe topic {}", name);
  TopicDescription d;
  d.info = FP_TRY(impl_->topic_info(name), what);
  FP_CHECK(impl_->each_topic_config(name, what,
                                    [&](const rd_kafka_ConfigEntry_t* e) {
                                      const char* value = rd_kafka_ConfigEntry_value(e);
                                      if (value != nullptr && !rd_kafka_ConfigEntry_is_sensitive(e))
                                        d.configs[rd_kafka_ConfigEntry_name(e)] = value;
                                      return ok_status();
                                    }),
           what);
  return d;
}

Result<ConfigMap> Admin::topic_overrides(const std::string& name) {
  auto what = fmt::format("overrides of topic {}", name);
  ConfigMap out;
  FP_CHECK(impl_->each_topic_config(name, what,
                                    [&](const rd_kafka_ConfigEntry_t* e) -> Status {
                                      if (rd_kafka_ConfigEntry_source(e) !=
                                          RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
                                        return ok_status();
                                      const char* value = rd_kafka_ConfigEntry_value(e);
                                      // A sensitive override comes back without its value and could not be
                                      // sent back: refuse rather than revert it (no topic config of Kafka's
                                      // is sensitive today).
                                      if (value == nullptr || rd_kafka_ConfigEntry_is_sensitive(e))
                                        return make_error("{} is sensitive and cannot be carried over",
                                                          rd_kafka_ConfigEntry_name(e));
                                      out[rd_kafka_ConfigEntry_name(e)] = value;
                                      return ok_status();
                                    }),
           what);
  return out;
}

Status Admin::alter_topic_configs(const std::string& name, const ConfigMap& changes) {
  auto what = fmt::format("alter configs of topic {}", name);
  ConfigMap wanted = FP_TRY(topic_overrides(name), what);
  for (const auto& [k, v] : changes) wanted[k] = v;
  std::vector<ConfigResourcePtr> resources;
  resources.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
  for (const auto& [k, v] : wanted) {
    if (auto err = rd_kafka_ConfigResource_set_config(resources[0].get(), k.c_str(), v.c_str()); err)
      return kafka_error(err, fmt::format("{}: {}={}", what, k, v));
  }
  OptionsPtr opts = FP_TRY(impl_->admin_options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, false), what);
  QueuePtr queue(rd_kafka_queue_new(impl_->rk.get()));
  auto raw_resources = raw(resources);
  rd_kafka_AlterConfigs(impl_->rk.get(), raw_resources.data(), raw_resources.size(), opts.get(), queue.get());
  EventPtr ev = FP_TRY(impl_->await(queue.get(), RD_KAFKA_EVENT_ALTERCONFIGS_RESULT), what);
  size_t n = 0;
  const rd_kafka_ConfigResource_t** res =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (auto err = rd_kafka_ConfigResource_error(res[i]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* detail = rd_kafka_ConfigResource_error_string(res[i]);
      return kafka_error(err, what, detail ? detail : "");
    }
  }
  return ok_status();
}

Result<std::vector<Watermark>> Admin::watermarks(const std::string& topic) {
  auto what = fmt::format("watermarks of {}", topic);
  TopicInfo info = FP_TRY(impl_->topic_info(topic), what);
  std::vector<Watermark> out;
  for (int32_t p = 0; p < info.partitions; ++p) {
    Watermark w{p, 0, 0};
    auto err = rd_kafka_query_watermark_offsets(impl_->rk.get(), topic.c_str(), p, &w.low, &w.high,
                                                impl_->timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error(err, fmt::format("{}[{}]", what, p));
    out.push_back(w);
  }
  return out;
}

Result<std::vector<GroupListing>> Admin::list_groups() {
  OptionsPtr opts = FP_TRY(impl_->admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, false), "list groups");
  QueuePtr queue(rd_kafka_queue_new(impl_->rk.get()));
  rd_kafka_ListConsumerGroups(impl_->rk.get(), opts.get(), queue.get());
  EventPtr ev = FP_TRY(impl_->await(queue.get(), RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT), "list groups");
  const auto* result = rd_kafka_event_ListConsumerGroups_result(ev.get());
  size_t n_err = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &n_err);
  // Groups are listed broker by broker; one broker failing makes the list incomplete, hence an error.
  if (n_err > 0)
    return kafka_error(rd_kafka_error_code(errors[0]), fmt::format("list groups ({} broker error(s))", n_err),
                       rd_kafka_error_string(errors[0]));
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** groups = rd_kafka_ListConsumerGroups_result_valid(result, &n);
  std::vector<GroupListing> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        GroupListing{rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                     rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i])),
                     rd_kafka_ConsumerGroupListing_is_simple_consumer_group(groups[i]) != 0});
  }
  std::sort(out.begin(), out.end(),
            [](const GroupListing& a, const GroupListing& b) { return a.group_id < b.group_id; });
  return out;
}

Result<std::vector<GroupDescription>> Admin::describe_groups(const std::vector<std::string>& groups) {
  if (groups.empty()) return std::vector<GroupDescription>{};
  const auto what = fmt::format("describe {} group(s)", groups.size());
  OptionsPtr opts = FP_TRY(impl_->admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, false), what);
  QueuePtr queue(rd_kafka_queue_new(impl_->rk.get()));
  std::vector<const char*> names;
  for (const auto& g : groups) names.push_back(g.c_str());
  rd_kafka_DescribeConsumerGroups(impl_->rk.get(), names.data(), names.size(), opts.get(), queue.get());
  EventPtr ev = FP_TRY(impl_->await(queue.get(), RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT), what);
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(ev.get()), &n);
  std::vector<GroupDescription> out;
  for (size_t i = 0; i < n; ++i) {
    GroupDescription d;
    d.group_id = rd_kafka_ConsumerGroupDescription_group_id(descs[i]);
    if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(descs[i])) {
      d.error = rd_kafka_error_string(e);
    } else {
      d.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descs[i]));
      d.members = rd_kafka_ConsumerGroupDescription_member_count(descs[i]);
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<CommittedOffset>> Admin::group_offsets(const std::string& group) {
  auto what = fmt::format("offsets of group {}", group);
  auto out = FP_TRY(impl_->committed_offsets(group, nullptr, what), what);
  std::sort(out.begin(), out.end(), [](const CommittedOffset& a, const CommittedOffset& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return out;
}

Result<std::vector<PartitionLag>> Admin::group_lag(const std::string& group, const std::string& topic) {
  auto what = fmt::format("lag of group {} on {}", group, topic);
  std::vector<Watermark> marks = FP_TRY(watermarks(topic), what);
  PartitionListPtr partitions(rd_kafka_topic_partition_list_new(static_cast<int>(marks.size())));
  for (const auto& w : marks) rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), w.partition);
  const auto offsets = FP_TRY(impl_->committed_offsets(group, partitions.get(), what), what);
  std::map<int32_t, int64_t> committed;
  for (const auto& o : offsets) committed[o.partition] = o.offset;
  std::vector<PartitionLag> out;
  for (const auto& w : marks) {
    PartitionLag l{topic, w.partition, -1, w.high, 0};
    if (auto it = committed.find(w.partition); it != committed.end() && it->second >= 0)
      l.committed = it->second;
    l.lag = partition_lag(l.committed, w.low, w.high);
    out.push_back(l);
  }
  return out;
}

}  // namespace fp::kafka
