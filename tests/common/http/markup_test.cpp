#include "common/http/markup.h"

#include <gtest/gtest.h>

namespace fp {
namespace {

TEST(MarkupTest, EscapesTheFiveMarkupCharacters) {
  EXPECT_EQ(escape_markup(R"(<a href="x" title='y'>&</a>)"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(MarkupTest, LeavesOtherTextAndUtf8Alone) {
  EXPECT_EQ(escape_markup("Zürich 🚚 etag-\"abc\""), "Zürich 🚚 etag-&quot;abc&quot;");
  EXPECT_EQ(escape_markup(""), "");
  EXPECT_EQ(escape_markup("&amp;"), "&amp;amp;");  // not idempotent: escaping twice is visible, as it must be
}

}  // namespace
}  // namespace fp
