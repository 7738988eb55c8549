// SigV4 against AWS's published vectors. Every expected value below is transcribed from AWS's text, never
// produced by this code: the S3 examples from "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk" (S3 API reference) and cases from the generic
// aws-sig-v4-test-suite (get-vanilla and friends).
#include "common/s3/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/digest.h"

namespace fp::sigv4 {
namespace {

constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ---- S3 examples (examplebucket, 20130524T000000Z) ----

const Credentials kS3Creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
constexpr const char* kS3Date = "20130524T000000Z";
constexpr const char* kS3Host = "examplebucket.s3.amazonaws.com";

Signed sign_s3(Request r) {
  return sign(r, kS3Creds, "us-east-1", "s3", kS3Date);
}

TEST(S3SigV4, GetObjectWithRange) {
  Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.payload_hash = kEmptySha256;
  r.headers = {{"Host", kS3Host},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha256},
               {"x-amz-date", kS3Date}};
  const Signed s = sign_s3(r);
  EXPECT_EQ(s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
}

TEST(S3SigV4, PutObjectKeyWithDollar) {
  const std::string payload_hash = digest::sha256_hex("Welcome to Amazon S3.");
  ASSERT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request r;
  r.method = "PUT";
  r.path = "/test$file.text";
  r.payload_hash = payload_hash;
  r.headers = {{"Host", kS3Host},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", kS3Date},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", payload_hash}};
  const Signed s = sign_s3(r);
  EXPECT_EQ(s.canonical_request,
            "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(S3SigV4, GetBucketLifecycleQueryWithoutValue) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"lifecycle", ""}};
  r.payload_hash = kEmptySha256;
  r.headers = {{"Host", kS3Host}, {"x-amz-date", kS3Date}, {"x-amz-content-sha256", kEmptySha256}};
  const Signed s = sign_s3(r);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(S3SigV4, ListObjectsQuerySorted) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};  // deliberately unsorted
  r.payload_hash = kEmptySha256;
  r.headers = {{"x-amz-date", kS3Date}, {"x-amz-content-sha256", kEmptySha256}, {"Host", kS3Host}};
  const Signed s = sign_s3(r);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// ---- Generic suite (service "service", us-east-1, 20150830T123600Z) ----

const Credentials kSuiteCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
constexpr const char* kSuiteDate = "20150830T123600Z";

struct SuiteCase {
  const char* name;
  const char* method;
  const char* path;
  Pairs query;
  Pairs extra_headers;  // besides Host and X-Amz-Date
  const char* body;
  const char* authorization;  // the suite's .authz
};

void PrintTo(const SuiteCase& c, std::ostream* os) {
  *os << c.name;
}

class S3SigV4Suite : public testing::TestWithParam<SuiteCase> {};

TEST_P(S3SigV4Suite, MatchesPublishedAuthorization) {
  const SuiteCase& c = GetParam();
  Request r;
  r.method = c.method;
  r.path = c.path;
  r.query = c.query;
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}};
  for (const auto& h : c.extra_headers) r.headers.push_back(h);
  r.payload_hash = digest::sha256_hex(c.body);
  EXPECT_EQ(sign(r, kSuiteCreds, "us-east-1", "service", kSuiteDate).authorization, c.authorization);
}

#define AUTHZ(headers, sig)                                                                                 \
  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" headers \
  ", Signature=" sig

INSTANTIATE_TEST_SUITE_P(
    S3AwsSuite, S3SigV4Suite,
    testing::Values(
        SuiteCase{
            "get_vanilla",
            "GET",
            "/",
            {},
            {},
            "",
            AUTHZ("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")},
        SuiteCase{
            "get_vanilla_query_order_key_case",
            "GET",
            "/",
            {{"Param2", "value2"}, {"Param1", "value1"}},
            {},
            "",
            AUTHZ("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")},
        SuiteCase{
            "get_vanilla_query_order_key",
            "GET",
            "/",
            {{"Param1", "value2"}, {"Param1", "Value1"}},
            {},
            "",
            AUTHZ("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")},
        SuiteCase{
            "get_vanilla_query_order_value",
            "GET",
            "/",
            {{"Param1", "value2"}, {"Param1", "value1"}},
            {},
            "",
            AUTHZ("host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694")},
        SuiteCase{
            "get_vanilla_query_unreserved",
            "GET",
            "/",
            {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
              "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
            {},
            "",
            AUTHZ("host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")},
        SuiteCase{
            "get_vanilla_utf8_query",
            "GET",
            "/",
            {{"\u1234", "bar"}},
            {},
            "",
            AUTHZ("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")},
        SuiteCase{
            "get_unreserved",
            "GET",
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            {},
            {},
            "",
            AUTHZ("host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")},
        SuiteCase{
            "get_utf8",
            "GET",
            "/\u1234",
            {},
            {},
            "",
            AUTHZ("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")},
        SuiteCase{"get_header_value_trim",
                  "GET",
                  "/",
                  {},
                  {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}},
                  "",
                  AUTHZ("host;my-header1;my-header2;x-amz-date",
                        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")},
        SuiteCase{"get_header_value_order",
                  "GET",
                  "/",
                  {},
                  {{"My-Header1", "value4"},
                   {"My-Header1", "value1"},
                   {"My-Header1", "value3"},
                   {"My-Header1", "value2"}},
                  "",
                  AUTHZ("host;my-header1;x-amz-date",
                        "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")},
        SuiteCase{"get_header_key_duplicate",
                  "GET",
                  "/",
                  {},
                  {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
                  "",
                  AUTHZ("host;my-header1;x-amz-date",
                        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")},
        SuiteCase{
            "post_vanilla",
            "POST",
            "/",
            {},
            {},
            "",
            AUTHZ("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")},
        SuiteCase{
            "post_vanilla_query",
            "POST",
            "/",
            {{"Param1", "value1"}},
            {},
            "",
            AUTHZ("host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")},
        SuiteCase{"post_header_value_case",
                  "POST",
                  "/",
                  {},
                  {{"My-Header1", "VALUE1"}},
                  "",
                  AUTHZ("host;my-header1;x-amz-date",
                        "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d")},
        SuiteCase{"post_x_www_form_urlencoded",
                  "POST",
                  "/",
                  {},
                  {{"Content-Type", "application/x-www-form-urlencoded"}},
                  "Param1=value1",
                  AUTHZ("content-type;host;x-amz-date",
                        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")}),
    [](const testing::TestParamInfo<SuiteCase>& info) { return std::string(info.param.name); });

TEST(S3SigV4, SuiteStringToSignForFormPost) {
  // post-x-www-form-urlencoded.sts: checks the body hash and the canonical request through its digest.
  Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
               {"Host", "example.amazonaws.com"},
               {"X-Amz-Date", kSuiteDate}};
  r.payload_hash = digest::sha256_hex("Param1=value1");
  EXPECT_EQ(r.payload_hash, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(sign(r, kSuiteCreds, "us-east-1", "service", kSuiteDate).string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
}

TEST(S3SigV4, UnsignedPayloadGoesIntoCanonicalRequest) {
  Request r;
  r.method = "PUT";
  r.path = "/b/k";
  r.payload_hash = std::string(kUnsignedPayload);
  r.headers = {{"host", "h"}, {"x-amz-date", kS3Date}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
  const Signed s = sign_s3(r);
  EXPECT_TRUE(s.canonical_request.ends_with("\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"))
      << s.canonical_request;
}

TEST(S3SigV4, CanonicalUriEncodesSegmentsOnceAndKeepsSlashes) {
  EXPECT_EQ(canonical_uri("/bucket/a b/c+d=e%f"), "/bucket/a%20b/c%2Bd%3De%25f");
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_query({{"prefix", "a/b c"}, {"list-type", "2"}}), "list-type=2&prefix=a%2Fb%20c");
}

TEST(S3SigV4, AmzDateFormatsUtc) {
  // 2015-08-30T12:36:00Z as seconds since the epoch.
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1440938160));
  EXPECT_EQ(amz_date(t), "20150830T123600Z");
}

TEST(S3Digest, KnownDigests) {
  EXPECT_EQ(digest::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest::hex(digest::md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  // Expected from the openssl CLI: printf '' | openssl md5 -binary | base64
  EXPECT_EQ(digest::base64(digest::md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(digest::base64("ab"), "YWI=");
}

}  // namespace
}  // namespace fp::sigv4
