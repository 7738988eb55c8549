// Escaping text for XML and HTML alike: the five characters with markup meaning become entity references.
// The apostrophe is written as &#39;, which both languages accept (HTML 4 has no &apos;).
#pragma once

#include <string>
#include <string_view>

namespace fp {

std::string escape_markup(std::string_view s);

}  // namespace fp
