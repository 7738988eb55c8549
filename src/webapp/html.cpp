#include "webapp/html.h"

#include <fmt/format.h>

#include "common/http/markup.h"
#include "common/trip/text.h"

namespace fp::webapp::html {

namespace {

struct InputSpec {
  const char* type;
  const char* inputmode;
  const char* placeholder;
  const char* hint;
};

InputSpec spec_for(std::string_view f) {
  if (trip::column_index(f) < trip::kColumnCount && trip::kind_of(f) == trip::Kind::kInt32) {
    return {"text", "numeric", "", "A whole number, 1 or more."};
  }
  if (f == "measurement_time") return {"text", "text", "2024-04-15 17:55:03", "YYYY-MM-DD HH:MM:SS"};
  if (f == "latitude") return {"text", "decimal", "49.7222", "Degrees, −90 to 90."};
  if (f == "longitude") return {"text", "decimal", "-117.3776", "Degrees, −180 to 180."};
  if (f == "fuel_capacity") return {"text", "decimal", "", "Gallons the tank holds."};
  if (f == "distance_traveled") return {"text", "decimal", "", "Miles, 0 or more."};
  if (f == "fuel_remaining_percent") return {"text", "decimal", "", "0 to 100."};
  if (f == "fuel_remaining_gallon") return {"text", "decimal", "", "0 to the vehicle's capacity."};
  if (f == "color") return {"text", "text", "red", "One lowercase word."};
  return {"text", "text", "", ""};
}

const std::string kHead = R"(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · fleetpipe</title>
<link rel="stylesheet" href="/static/webapp.css">
</head>
<body>
<header class="topbar"><a class="brand" href="/">fleetpipe</a><span class="tagline">Fleet trips</span></header>
<main>
)";

std::string head(std::string_view title) {
  return fmt::format(fmt::runtime(kHead), fmt::arg("title", escape(title)));
}

const char* kFoot =
    "</main>\n<footer class=\"foot\">fleetpipe web app · <a href=\"/api/trips/latest\">JSON</a>"
    "</footer>\n</body>\n</html>\n";

}  // namespace

std::string escape(std::string_view s) {
  return escape_markup(s);
}

std::string number(double v) {
  return fmt::format("{}", v);
}

namespace {
// One cell of the latest-trips table: numbers right-aligned, the time in <time>, the colour with its swatch.
template <typename F>
void append_cell(std::string& out, const trip::Measurement& m, const F& f) {
  auto to = std::back_inserter(out);
  if constexpr (trip::kIsText<F>) {
    const std::string color = escape(m.*f.member);
    fmt::format_to(to, "<td><span class=\"swatch c-{}\"></span>{}</td>", color, color);
  } else if constexpr (trip::kIsTime<F>) {
    fmt::format_to(to, "<td><time>{}</time></td>", escape(trip::format_time(m.*f.member)));
  } else if constexpr (std::is_same_v<F, trip::Field<double>>) {
    fmt::format_to(to, "<td class=\"num\">{}</td>", number(m.*f.member));
  } else {
    fmt::format_to(to, "<td class=\"num\">{}</td>", m.*f.member);
  }
}
}  // namespace

std::string latest_table(const std::vector<TripRow>& rows) {
  if (rows.empty()) return "<p class=\"empty\">No trips recorded yet. Add the first one below.</p>\n";
  std::string out;
  out.reserve(256 + rows.size() * 400);
  out += "<div class=\"table-wrap\"><table>\n<thead><tr>";
  for (const auto& f : trip_field_names()) {
    const bool numeric = trip::kind_of(f) == trip::Kind::kInt32 || trip::kind_of(f) == trip::Kind::kFloat64;
    out += fmt::format("<th scope=\"col\"{}>{}</th>", numeric ? " class=\"num\"" : "",
                       escape(trip_field_label(f)));
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& r : rows) {
    out += "<tr>";
    trip::for_each_field([&](const auto& f) { append_cell(out, r.trip, f); });
    out += "</tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  return out;
}

std::string page(std::string_view table_html, const FormState& form, std::string_view csrf_token) {
  std::string out = head(form.errors.empty() && form.banner.empty() ? "Latest Trips" : "Check the trip");
  out +=
      "<section aria-labelledby=\"latest-title\">\n<h1 id=\"latest-title\">Latest Trips</h1>\n"
      "<p class=\"lede\">The most recent measurement of every vehicle, newest first.</p>\n";
  out += table_html;
  out +=
      "</section>\n<section aria-labelledby=\"add-title\" class=\"card\" id=\"add\">\n"
      "<h2 id=\"add-title\">Add a New Trip</h2>\n";
  if (!form.banner.empty() || !form.errors.empty()) {
    out += "<div class=\"alert\" role=\"alert\">";
    if (!form.banner.empty()) out += "<p>" + escape(form.banner) + "</p>";
    if (!form.errors.empty()) {
      out += fmt::format("<p>{} field{} need{} attention:</p><ul>", form.errors.size(),
                         form.errors.size() == 1 ? "" : "s", form.errors.size() == 1 ? "s" : "");
      for (const auto& e : form.errors) {
        out += fmt::format("<li><a href=\"#f-{0}\">{1}</a> {2}</li>", escape(e.field),
                           escape(trip_field_label(e.field)), escape(e.reason));
      }
      out += "</ul>";
    }
    out += "</div>\n";
  }
  out += "<form method=\"post\" action=\"/submit\" novalidate>\n";
  out += fmt::format("<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">\n<div class=\"grid\">\n",
                     escape(csrf_token));
  for (const auto& f : trip_field_names()) {
    const FieldError* err = nullptr;
    for (const auto& e : form.errors) {
      if (e.field == f) err = &e;
    }
    auto v = form.values.find(f);
    const std::string value = v == form.values.end() ? std::string{} : escape(v->second);
    const InputSpec s = spec_for(f);
    out += fmt::format("<div class=\"field{}\">", err ? " invalid" : "");
    out += fmt::format("<label for=\"f-{0}\">{1}</label>", f, escape(trip_field_label(f)));
    out += fmt::format(
        "<input id=\"f-{0}\" name=\"{0}\" type=\"{1}\" inputmode=\"{2}\" placeholder=\"{3}\" value=\"{4}\" "
        "maxlength=\"{5}\" autocomplete=\"off\" aria-describedby=\"h-{0}{6}\"{7}>",
        f, s.type, s.inputmode, escape(s.placeholder), value, kMaxFieldChars,
        err ? fmt::format(" e-{}", f) : "", err ? " aria-invalid=\"true\"" : "");
    out += fmt::format("<p class=\"hint\" id=\"h-{}\">{}</p>", f, escape(s.hint));
    if (err) out += fmt::format("<p class=\"error\" id=\"e-{}\">{}</p>", f, escape(err->reason));
    out += "</div>\n";
  }
  out +=
      "</div>\n<div class=\"actions\"><button type=\"submit\">Add trip</button></div>\n</form>\n</section>\n";
  out += kFoot;
  return out;
}

std::string message_page(std::string_view title, std::string_view message) {
  std::string out = head(title);
  out += fmt::format(
      "<section class=\"card notice\"><h1>{}</h1><p>{}</p><p><a href=\"/\">Try again</a></p>"
      "</section>\n",
      escape(title), escape(message));
  out += kFoot;
  return out;
}

}  // namespace fp::webapp::html

namespace fp::webapp {

nlohmann::json to_json(const TripRow& row) {
  nlohmann::json out = {{"id", row.id}};
  trip::for_each_field([&](const auto& f) {
    if constexpr (trip::kIsTime<decltype(f)>) {
      out[std::string(f.name)] = trip::format_time(row.trip.*f.member);
    } else {
      out[std::string(f.name)] = row.trip.*f.member;
    }
  });
  return out;
}

}  // namespace fp::webapp
