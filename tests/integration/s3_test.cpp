// The S3 client against the running object store (S3Proxy from `fleetpipe up`, or any endpoint given by
// AWS_ENDPOINT_URL), cross-checked with the standard aws CLI. Every run works under its own key prefix and
// deletes what it wrote.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/config.h"
#include "common/digest.h"
#include "common/s3/client.h"

namespace fp::s3 {
namespace {

namespace fs = std::filesystem;

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
  }
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A Reader over an in-memory buffer, handing out small uneven chunks like a socket would.
Reader memory_reader(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](char* buf, size_t max) -> Result<size_t> {
    const size_t n = std::min({max, data.size() - *pos, size_t{100'003}});
    std::memcpy(buf, data.data() + *pos, n);
    *pos += n;
    return n;
  };
}

class S3Integration : public testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = cfg->s3;
    ASSERT_FALSE(cfg_.access_key.empty()) << "AWS_ACCESS_KEY_ID is not configured";
    ASSERT_FALSE(cfg_.secret_key.empty()) << "AWS_SECRET_ACCESS_KEY is not configured";
    ClientOptions opts;
    opts.backoff.max_attempts = 3;
    client_ = std::make_unique<Client>(cfg_, opts);
    const auto created = client_->create_bucket();
    ASSERT_TRUE(created.ok()) << created.error().message;
    prefix_ = fmt::format("it-s3/{}-{}-{}/", ::getpid(),
                          std::chrono::system_clock::now().time_since_epoch().count(),
                          testing::UnitTest::GetInstance()->current_test_info()->name());
    tmp_ = fs::temp_directory_path() / fmt::format("fp-s3-it-{}", ::getpid());
    fs::create_directories(tmp_);
  }

  void TearDown() override {
    if (client_) {
      const auto left = client_->list_all(prefix_);
      ASSERT_TRUE(left.ok()) << left.error().message;
      for (const auto& o : *left) {
        const auto d = client_->delete_object(o.key);
        EXPECT_TRUE(d.ok()) << d.error().message;
      }
    }
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  // Runs the aws CLI against the same endpoint and credentials; returns its exit status.
  int aws(const std::string& args) {
    ::setenv("AWS_ACCESS_KEY_ID", cfg_.access_key.c_str(), 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", cfg_.secret_key.c_str(), 1);
    ::setenv("AWS_DEFAULT_REGION", cfg_.region.c_str(), 1);
    const std::string cmd = fmt::format("timeout 120 aws --endpoint-url '{}' {} >'{}' 2>&1", cfg_.endpoint,
                                        args, (tmp_ / "aws.log").string());
    const int rc = std::system(cmd.c_str());
    if (rc != 0) ADD_FAILURE() << cmd << "\n" << read_file(tmp_ / "aws.log");
    return rc;
  }

  std::string key(std::string_view name) const { return prefix_ + std::string(name); }

  S3Config cfg_;
  std::unique_ptr<Client> client_;
  std::string prefix_;
  fs::path tmp_;
};

TEST_F(S3Integration, BucketCreationIsIdempotent) {
  const auto again = client_->create_bucket();
  EXPECT_TRUE(again.ok()) << again.error().message;
  const auto exists = client_->bucket_exists();
  ASSERT_TRUE(exists.ok()) << exists.error().message;
  EXPECT_TRUE(*exists);

  S3Config other = cfg_;
  other.bucket = fmt::format("fp-missing-{}", ::getpid());
  const auto missing = Client(other).bucket_exists();
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(*missing);
}

TEST_F(S3Integration, PutGetHeadListDelete) {
  const std::string body = "{\"trip\": 1, \"km\": 12.5}\n";
  const std::string k = key("trips/a b+c=d.json");  // characters that need URI encoding
  const auto etag = client_->put_object(k, body, "application/json", {{"source", "unit-7"}, {"rows", "1"}});
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  EXPECT_EQ(*etag, digest::hex(digest::md5(body)));  // a single-part ETag is the MD5 of the bytes

  const auto got = client_->get_object(k);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, body);

  const auto head = client_->head_object(k);
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->size, static_cast<long long>(body.size()));
  EXPECT_EQ(head->etag, *etag);
  EXPECT_EQ(head->content_type, "application/json");
  EXPECT_EQ(head->metadata, (Metadata{{"source", "unit-7"}, {"rows", "1"}}));

  const auto listed = client_->list_all(prefix_);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, k);
  EXPECT_EQ((*listed)[0].size, static_cast<long long>(body.size()));

  ASSERT_TRUE(client_->delete_object(k).ok());
  const auto gone = client_->head_object(k);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, Error::Kind::kNotFound) << gone.error().message;
  const auto gone_get = client_->get_object(k);
  ASSERT_FALSE(gone_get.ok());
  EXPECT_EQ(gone_get.error().kind, Error::Kind::kNotFound) << gone_get.error().message;
  EXPECT_NE(gone_get.error().message.find("NoSuchKey"), std::string::npos) << gone_get.error().message;
  EXPECT_TRUE(client_->delete_object(k).ok()) << "deleting a missing key is not an error";
}

TEST_F(S3Integration, ListAllFollowsPagination) {
  constexpr int kObjects = 23;
  for (int i = 0; i < kObjects; ++i) {
    const auto r = client_->put_object(key(fmt::format("p/{:03}", i)), fmt::format("object {}", i));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  const auto first = client_->list_objects_v2(prefix_ + "p/", "", 10);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->objects.size(), 10u);
  EXPECT_TRUE(first->truncated);
  EXPECT_FALSE(first->next_continuation_token.empty());

  const auto all = client_->list_all(prefix_ + "p/", 10);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), static_cast<size_t>(kObjects));
  for (int i = 0; i < kObjects; ++i) EXPECT_EQ((*all)[i].key, key(fmt::format("p/{:03}", i)));

  // start-after: only the keys after it, across pages too (what lets export list only the runs since its
  // manifest head instead of the whole history).
  const auto after = client_->list_all(prefix_ + "p/", 5, key("p/011"));
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(after->size(), static_cast<size_t>(kObjects - 12));
  for (size_t i = 0; i < after->size(); ++i) EXPECT_EQ((*after)[i].key, key(fmt::format("p/{:03}", 12 + i)));
}

TEST_F(S3Integration, MultipartTwentyMebibytesReadsBackIdentical) {
  const std::string data = random_bytes(20u << 20, 42);
  const std::string k = key("big/trip-archive.bin");
  const auto etag =
      client_->put_large(k, memory_reader(data), "application/octet-stream", {{"kind", "archive"}});
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  EXPECT_TRUE(etag->ends_with("-3")) << "8 MiB parts: 8 + 8 + 4, got ETag " << *etag;

  const auto head = client_->head_object(k);
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->size, static_cast<long long>(data.size()));
  EXPECT_EQ(head->metadata.at("kind"), "archive");

  const auto got = client_->get_object(k);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(*got == data) << "multipart object differs after read-back (" << got->size() << " bytes)";

  std::string streamed;
  const auto st = client_->get_object(k, [&](const char* p, size_t n) {
    streamed.append(p, n);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(streamed == data) << "streamed read-back differs";
}

TEST_F(S3Integration, SmallStreamSkipsMultipart) {
  const std::string data = random_bytes(300'000, 7);
  const auto etag = client_->put_large(key("small.bin"), memory_reader(data));
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  EXPECT_EQ(*etag, digest::hex(digest::md5(data)));
}

TEST_F(S3Integration, PutFromFileSmallAndLarge) {
  const std::string small = random_bytes(1'000'001, 1);
  const std::string large = random_bytes((9u << 20) + 17, 2);  // just over one part
  write_file(tmp_ / "small", small);
  write_file(tmp_ / "large", large);
  const auto e1 = client_->put_object_from_file(key("f/small"), tmp_ / "small", "text/csv");
  ASSERT_TRUE(e1.ok()) << e1.error().message;
  const auto e2 = client_->put_object_from_file(key("f/large"), tmp_ / "large");
  ASSERT_TRUE(e2.ok()) << e2.error().message;
  EXPECT_TRUE(e2->ends_with("-2")) << *e2;
  const auto g1 = client_->get_object(key("f/small"));
  const auto g2 = client_->get_object(key("f/large"));
  ASSERT_TRUE(g1.ok() && g2.ok());
  EXPECT_TRUE(*g1 == small);
  EXPECT_TRUE(*g2 == large);
  EXPECT_EQ(client_->head_object(key("f/small"))->content_type, "text/csv");

  const auto missing = client_->put_object_from_file(key("f/none"), tmp_ / "does-not-exist");
  EXPECT_FALSE(missing.ok());
}

TEST_F(S3Integration, CopyToQuarantinePrefix) {
  const std::string body = "bad,row\n";
  ASSERT_TRUE(client_->put_object(key("in/x.csv"), body, "text/csv", {{"reason", "none"}}).ok());
  const auto etag = client_->copy_object(key("in/x.csv"), key("quarantine/in/x.csv"));
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  const auto got = client_->get_object(key("quarantine/in/x.csv"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(*got, body);
  const auto head = client_->head_object(key("quarantine/in/x.csv"));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata, (Metadata{{"reason", "none"}}));

  const auto missing = client_->copy_object(key("in/none.csv"), key("quarantine/none.csv"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Error::Kind::kNotFound) << missing.error().message;
}

TEST_F(S3Integration, WrongSecretIsPermanentNotRetried) {
  S3Config bad = cfg_;
  bad.secret_key += "x";
  const auto r = Client(bad).get_object(key("whatever"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Error::Kind::kPermanent) << r.error().message;
  EXPECT_EQ(r.error().message.find("gave up"), std::string::npos) << r.error().message;
}

TEST_F(S3Integration, AwsCliReadsOursAndWeReadTheirs) {
  const std::string ours = random_bytes((11u << 20) + 5, 3);  // multipart on our side
  ASSERT_TRUE(client_->put_large(key("x/ours.bin"), memory_reader(ours)).ok());
  ASSERT_EQ(
      aws(fmt::format("s3 cp 's3://{}/{}' '{}'", cfg_.bucket, key("x/ours.bin"), (tmp_ / "ours").string())),
      0);
  EXPECT_TRUE(read_file(tmp_ / "ours") == ours) << "aws s3 cp read back different bytes";

  const std::string theirs = random_bytes(3'000'017, 4);
  write_file(tmp_ / "theirs", theirs);
  ASSERT_EQ(aws(fmt::format("s3 cp '{}' 's3://{}/{}'", (tmp_ / "theirs").string(), cfg_.bucket,
                            key("x/theirs.bin"))),
            0);
  const auto got = client_->get_object(key("x/theirs.bin"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(*got == theirs) << "our client read back different bytes";
}

}  // namespace
}  // namespace fp::s3
