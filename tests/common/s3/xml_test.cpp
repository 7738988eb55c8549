// Parsing of S3's XML answers and the mapping of S3 errors to fp::Error kinds.
#include "common/s3/xml.h"

#include <gtest/gtest.h>

namespace fp::s3 {
namespace {

TEST(S3Xml, ParsesListV2PageWithContinuation) {
  const auto page = parse_list_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>raw</Name><Prefix>trips/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>trips/a &amp; b.json</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key> trips/spaced </Key><ETag>"abc-2"</ETag><Size>10485760</Size></Contents>
  <CommonPrefixes><Prefix>trips/2024/</Prefix></CommonPrefixes>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "trips/a & b.json");
  EXPECT_EQ(page->objects[0].etag, "9b2cf535f27731c974343645a3985328");
  EXPECT_EQ(page->objects[0].size, 12);
  EXPECT_EQ(page->objects[0].last_modified, "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(page->objects[1].key, " trips/spaced ");
  EXPECT_EQ(page->objects[1].etag, "abc-2");
  EXPECT_EQ(page->objects[1].size, 10485760);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ASSERT_EQ(page->common_prefixes.size(), 1u);
  EXPECT_EQ(page->common_prefixes[0], "trips/2024/");
}

TEST(S3Xml, LastPageAndEmptyListing) {
  const auto page = parse_list_v2(
      "<ListBucketResult><Name>raw</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->truncated);
}

TEST(S3Xml, RejectsMalformedListings) {
  EXPECT_FALSE(parse_list_v2("<ListBucketResult><Contents><Key>k</Key>").ok());
  EXPECT_FALSE(parse_list_v2("<Other/>").ok());
  EXPECT_FALSE(parse_list_v2("<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents>"
                             "</ListBucketResult>")
                   .ok());
  // Truncated without a token would make list_all loop or stop early.
  EXPECT_FALSE(parse_list_v2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").ok());
}

TEST(S3Xml, UploadIdAndResultEtag) {
  const auto id = parse_upload_id(
      "<InitiateMultipartUploadResult><Bucket>raw</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
      "</InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "VXBsb2FkIElE");
  EXPECT_FALSE(parse_upload_id("<InitiateMultipartUploadResult/>").ok());

  const auto etag = parse_result_etag(
      "<CompleteMultipartUploadResult><Location>x</Location><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</"
      "ETag>"
      "</CompleteMultipartUploadResult>",
      "CompleteMultipartUploadResult");
  ASSERT_TRUE(etag.ok()) << etag.error().message;
  EXPECT_EQ(*etag, "3858f62230ac3c915f300c664312c11f-9");
}

TEST(S3Xml, ErrorInsideA200AnswerIsAnError) {
  const auto etag = parse_result_etag(
      "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error."
      "</Message></Error>",
      "CompleteMultipartUploadResult");
  ASSERT_FALSE(etag.ok());
  EXPECT_TRUE(etag.error().transient());
  EXPECT_NE(etag.error().message.find("InternalError"), std::string::npos) << etag.error().message;
}

TEST(S3Xml, ErrorKinds) {
  const auto err = [](long status, const char* code) {
    return error_from_response(
        status,
        fmt::format("<Error><Code>{}</Code><Message>m</Message><RequestId>r1</RequestId></Error>", code),
        "GET k");
  };
  const Error no_key = err(404, "NoSuchKey");
  EXPECT_EQ(no_key.kind, Error::Kind::kNotFound);
  EXPECT_EQ(no_key.message, "GET k: HTTP 404 NoSuchKey: m (request id r1)");
  EXPECT_EQ(err(404, "NoSuchBucket").kind, Error::Kind::kNotFound);
  EXPECT_EQ(err(503, "SlowDown").kind, Error::Kind::kTransient);
  EXPECT_EQ(err(500, "InternalError").kind, Error::Kind::kTransient);
  EXPECT_EQ(err(400, "RequestTimeout").kind, Error::Kind::kTransient);
  EXPECT_EQ(err(403, "SignatureDoesNotMatch").kind, Error::Kind::kPermanent);
  EXPECT_EQ(err(403, "AccessDenied").kind, Error::Kind::kPermanent);
  EXPECT_EQ(err(400, "BadDigest").kind, Error::Kind::kInvalidInput);
  // HEAD answers have no body: the status alone decides.
  EXPECT_EQ(error_from_response(404, "", "HEAD k").kind, Error::Kind::kNotFound);
  EXPECT_EQ(error_from_response(502, "<html>bad gateway</html>", "HEAD k").kind, Error::Kind::kTransient);
  EXPECT_EQ(error_from_response(403, "", "HEAD k").kind, Error::Kind::kPermanent);
}

TEST(S3Xml, CompleteBodyListsPartsInOrderEscaped) {
  EXPECT_EQ(complete_multipart_body({{1, "aa"}, {2, "b&b"}}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"b&amp;b\"</ETag></Part></CompleteMultipartUpload>");
}

}  // namespace
}  // namespace fp::s3
