#include "http_util.hpp"

#include <boost/beast/http/field.hpp>
#include <charconv>

#include "connectors/wire_time.hpp"

namespace concord::fake {
namespace http = boost::beast::http;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> BearerToken(const HttpRequest& req) {
  const auto it = req.find(http::field::authorization);
  if (it == req.end()) return std::nullopt;
  std::string_view value(it->value().data(), it->value().size());
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size() || !IEquals(value.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool AcceptsJson(const HttpRequest& req) {
  const auto it = req.find(http::field::accept);
  if (it == req.end()) return false;
  std::string_view rest(it->value().data(), it->value().size());
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view range = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    range = range.substr(0, range.find(';'));
    while (!range.empty() && (range.front() == ' ' || range.front() == '\t')) {
      range.remove_prefix(1);
    }
    while (!range.empty() && (range.back() == ' ' || range.back() == '\t')) range.remove_suffix(1);
    if (IEquals(range, "application/json")) return true;
  }
  return false;
}

HttpResponse MakeResponse(const HttpRequest& req, unsigned status, std::string_view content_type,
                          std::string body, reconcile::Millis now_ms) {
  HttpResponse res{static_cast<http::status>(status), req.version()};
  res.set(http::field::date, connectors::FormatHttpDate(now_ms));
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace concord::fake
