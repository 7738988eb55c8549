#include "common/http/markup.h"

#include "common/escape.h"

namespace fp {

std::string escape_markup(std::string_view s) {
  static constexpr EscapeTable kMarkup{
      {'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}};
  return kMarkup.escape(s);
}

}  // namespace fp
