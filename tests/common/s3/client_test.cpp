// S3 client behaviour that needs no server: input validation and transport-failure handling.
#include "common/s3/client.h"

#include <gtest/gtest.h>

namespace fp::s3 {
namespace {

S3Config unreachable() {
  S3Config c;
  c.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  c.access_key = "AK";
  c.secret_key = "SK";
  c.region = "us-east-1";
  c.bucket = "b";
  return c;
}

ClientOptions fast() {
  ClientOptions o;
  o.backoff.base = std::chrono::milliseconds(1);
  o.backoff.cap = std::chrono::milliseconds(2);
  o.backoff.max_attempts = 2;
  o.connect_timeout = std::chrono::milliseconds(500);
  return o;
}

TEST(S3Client, RejectsKeysThatCurlWouldRewrite) {
  Client c(unreachable(), fast());
  for (const char* key : {"", "a/../b", "./a", "a/.", ".."}) {
    const auto r = c.put_object(key, "x");
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.error().kind, Error::Kind::kInvalidInput) << key << ": " << r.error().message;
  }
  EXPECT_EQ(c.put_object("k", "x", "text/plain", {{"bad name", "v"}}).error().kind,
            Error::Kind::kInvalidInput);
  EXPECT_EQ(c.list_objects_v2("p", "", 0).error().kind, Error::Kind::kInvalidInput);
}

TEST(S3Client, TransportFailureIsTransientAfterRetries) {
  Client c(unreachable(), fast());
  const auto r = c.head_object("k");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().transient()) << r.error().message;
  EXPECT_NE(r.error().message.find("gave up after 2 attempts"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace fp::s3
