#include "connectors/http_proxy.hpp"

#include <openssl/evp.h>

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <stdexcept>
#include <vector>

namespace concord::connectors {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(data.data()),
                                      static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// The URL as it may appear in a message: userinfo replaced, so a password never leaks.
std::string Redacted(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t at = url.find('@', authority);
  const std::size_t path = url.find('/', authority);
  if (at == std::string_view::npos || (path != std::string_view::npos && path < at)) {
    return std::string(url);
  }
  return std::string(url.substr(0, authority)) + "***@" + std::string(url.substr(at + 1));
}

bool IsIpAddress(std::string_view host) {
  boost::system::error_code error;
  (void)boost::asio::ip::make_address(std::string(host), error);
  return !error;
}

bool IsLoopback(std::string_view host) {
  const std::string name = boost::algorithm::to_lower_copy(std::string(host));
  if (name == "localhost" || name.ends_with(".localhost")) return true;
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(name, error);
  return !error && address.is_loopback();
}

// One NO_PROXY entry split into host and optional port. The host keeps no brackets, no
// leading "*." or ".", no trailing dot.
struct Exemption {
  std::string host;
  std::string port;  // empty: any port
};

Exemption ParseExemption(std::string_view entry) {
  Exemption exemption;
  if (entry.starts_with('[')) {  // [v6] or [v6]:port
    const std::size_t close = entry.find(']');
    if (close == std::string_view::npos)
      return {boost::algorithm::to_lower_copy(std::string(entry)), {}};
    exemption.host = boost::algorithm::to_lower_copy(std::string(entry.substr(1, close - 1)));
    if (close + 1 < entry.size() && entry[close + 1] == ':') {
      exemption.port = std::string(entry.substr(close + 2));
    }
    return exemption;
  }
  const std::size_t colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    exemption.port = std::string(entry.substr(colon + 1));
    entry = entry.substr(0, colon);
  }  // several colons: an IPv6 address without brackets, and without a port
  if (entry.starts_with("*.")) {
    entry.remove_prefix(2);
  } else if (entry.starts_with('.')) {
    entry.remove_prefix(1);
  }
  if (entry.ends_with('.')) entry.remove_suffix(1);
  exemption.host = boost::algorithm::to_lower_copy(std::string(entry));
  return exemption;
}

}  // namespace

Proxy ParseProxyUrl(std::string_view text) {
  const std::string trimmed(Trim(text));
  const std::string url =
      trimmed.find("://") == std::string::npos ? "http://" + trimmed : std::string(trimmed);
  const auto fail = [&](const std::string& why) {
    throw std::invalid_argument("proxy URL '" + Redacted(trimmed) + "' " + why);
  };
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) fail("is not a URL: " + parsed.error().message());
  const boost::urls::url_view view = *parsed;
  if (view.scheme_id() != boost::urls::scheme::http) {
    fail("has scheme '" + std::string(view.scheme()) +
         "': only http:// proxies are supported (https:// requests are tunnelled through them)");
  }
  Proxy proxy;
  proxy.host = view.host_address();
  if (proxy.host.empty()) fail("has no host");
  if (!view.encoded_path().empty() && view.encoded_path() != "/") fail("has a path");
  if (view.has_query() || view.has_fragment()) fail("has a query or fragment");
  proxy.port = view.has_port() ? std::string(view.port()) : "80";
  if (view.has_port() && view.port_number() == 0) fail("has an invalid port");
  if (view.has_userinfo()) {
    proxy.authorization = "Basic " + Base64(view.user() + ":" + view.password());
  }
  proxy.display = "http://" + std::string(view.encoded_host_and_port());
  if (!view.has_port()) proxy.display += ":80";
  return proxy;
}

bool NoProxyExempts(std::string_view no_proxy, std::string_view host, std::string_view port) {
  std::string name = boost::algorithm::to_lower_copy(std::string(host));
  if (name.ends_with('.')) name.pop_back();
  while (!no_proxy.empty()) {
    const std::size_t comma = no_proxy.find(',');
    const std::string_view entry = Trim(no_proxy.substr(0, comma));
    no_proxy = comma == std::string_view::npos ? std::string_view() : no_proxy.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    const Exemption exemption = ParseExemption(entry);
    if (exemption.host.empty()) continue;
    if (!exemption.port.empty() && exemption.port != port) continue;
    if (name == exemption.host) return true;
    // An address exempts itself only, and is exempted only by itself.
    if (IsIpAddress(exemption.host) || IsIpAddress(name)) continue;
    if (name.size() > exemption.host.size() && name.ends_with(exemption.host) &&
        name[name.size() - exemption.host.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

std::optional<Proxy> ProxyFor(const ProxySettings& settings, bool tls, std::string_view host,
                              std::string_view port) {
  const std::string& url = tls ? settings.https_proxy : settings.http_proxy;
  if (Trim(url).empty() || IsLoopback(host) || NoProxyExempts(settings.no_proxy, host, port)) {
    return std::nullopt;
  }
  return ParseProxyUrl(url);
}

}  // namespace concord::connectors
