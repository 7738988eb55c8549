#include "common/s3/xml.h"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <charconv>
#include <sstream>

#include "common/http/markup.h"

namespace fp::s3 {
namespace {

namespace pt = boost::property_tree;

// Parses an XML document; Boost reports malformed input by exception, which stops here.
Result<pt::ptree> parse_xml(std::string_view xml) {
  try {
    std::istringstream in{std::string(xml)};
    pt::ptree tree;
    // No trim_whitespace: object keys may legitimately begin or end with spaces.
    pt::read_xml(in, tree);
    return tree;
  } catch (const pt::ptree_error& e) {
    return make_error("malformed XML from S3: {}", e.what());
  }
}

std::string text(const pt::ptree& node, const char* child) {
  const auto c = node.get_child_optional(child);
  return c ? c->data() : std::string();
}

}  // namespace

std::string strip_quotes(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

std::optional<ErrorDoc> parse_error(std::string_view xml) {
  if (xml.find("<Error") == std::string_view::npos) return std::nullopt;
  auto tree = parse_xml(xml);
  if (!tree.ok()) return std::nullopt;
  const auto err = tree->get_child_optional("Error");
  if (!err) return std::nullopt;
  return ErrorDoc{text(*err, "Code"), text(*err, "Message"), text(*err, "RequestId")};
}

Result<ListPage> parse_list_v2(std::string_view xml) {
  const pt::ptree tree = FP_TRY(parse_xml(xml), "ListObjectsV2");
  const auto root = tree.get_child_optional("ListBucketResult");
  if (!root) return make_error("ListObjectsV2: answer has no <ListBucketResult>");
  ListPage page;
  for (const auto& [name, node] : *root) {
    if (name == "Contents") {
      ObjectSummary o;
      o.key = text(node, "Key");
      const std::string size = text(node, "Size");
      const auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
      if (ec != std::errc() || p != size.data() + size.size())
        return make_error("ListObjectsV2: bad <Size> {:?} for key {:?}", size, o.key);
      o.etag = strip_quotes(text(node, "ETag"));
      o.last_modified = text(node, "LastModified");
      page.objects.push_back(std::move(o));
    } else if (name == "CommonPrefixes") {
      page.common_prefixes.push_back(text(node, "Prefix"));
    } else if (name == "IsTruncated") {
      page.truncated = node.data() == "true";
    } else if (name == "NextContinuationToken") {
      page.next_continuation_token = node.data();
    }
  }
  if (page.truncated && page.next_continuation_token.empty())
    return make_error("ListObjectsV2: truncated answer without <NextContinuationToken>");
  return page;
}

Result<std::string> parse_upload_id(std::string_view xml) {
  const pt::ptree tree = FP_TRY(parse_xml(xml), "CreateMultipartUpload");
  const std::string id = tree.get<std::string>("InitiateMultipartUploadResult.UploadId", "");
  if (id.empty()) return make_error("CreateMultipartUpload: answer has no <UploadId>");
  return id;
}

Result<std::string> parse_result_etag(std::string_view xml, std::string_view root) {
  if (parse_error(xml)) return error_from_response(200, xml, root).context("error document in a 200 answer");
  const pt::ptree tree = FP_TRY(parse_xml(xml), std::string(root));
  const auto node = tree.get_child_optional(std::string(root));
  if (!node) return make_error("answer has no <{}>", root);
  return strip_quotes(text(*node, "ETag"));
}

std::string complete_multipart_body(const std::vector<CompletedPart>& parts) {
  std::string out = "<CompleteMultipartUpload>";
  for (const auto& p : parts)
    out += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>", p.number,
                       escape_markup(p.etag));
  out += "</CompleteMultipartUpload>";
  return out;
}

Error error_from_response(long status, std::string_view body, std::string_view what) {
  const auto doc = parse_error(body);
  const std::string code = doc ? doc->code : "";
  Error e;
  if (doc) {
    e.message = fmt::format("{}: HTTP {} {}: {}", what, status, code, doc->message);
    if (!doc->request_id.empty()) e.message += fmt::format(" (request id {})", doc->request_id);
  } else {
    e.message = fmt::format("{}: HTTP {}", what, status);
  }
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload" ||
      (code.empty() && status == 404)) {
    e.kind = Error::Kind::kNotFound;
  } else if (status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" ||
             code == "InternalError" || code == "ServiceUnavailable") {
    e.kind = Error::Kind::kTransient;
  } else if (code == "InvalidArgument" || code == "InvalidBucketName" || code == "KeyTooLongError" ||
             code == "EntityTooLarge" || code == "EntityTooSmall" || code == "InvalidPart" ||
             code == "InvalidPartOrder" || code == "MalformedXML" || code == "BadDigest" ||
             code == "InvalidDigest") {
    e.kind = Error::Kind::kInvalidInput;
  } else {
    e.kind = Error::Kind::kPermanent;
  }
  return e;
}

}  // namespace fp::s3
