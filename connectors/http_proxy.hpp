#pragma once
// Choosing an outbound proxy the way curl and Go read HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as
// pure functions over ProxySettings (connectors/source.hpp), which the wiring layer fills from
// the environment. HttpClient uses them; tests call them directly.

#include <optional>
#include <string>
#include <string_view>

#include "connectors/source.hpp"

namespace concord::connectors {

// One proxy to go through, parsed from a proxy URL.
struct Proxy {
  std::string host;  // DNS name or IP address, without IPv6 brackets
  std::string port;  // as written, else 80
  // "Basic <base64(user:password)>" from the URL's userinfo (percent-decoded), or empty. Sent
  // as Proxy-Authorization; never part of an error message or a log line.
  std::string authorization;
  std::string display;  // "http://host:port": names the proxy in errors, without credentials

  [[nodiscard]] bool operator==(const Proxy&) const = default;
};

// Parses http://[user[:password]@]host[:port][/], or host[:port] (read as http://). Only
// plain-HTTP proxies are supported (https:// requests still get end-to-end TLS through their
// CONNECT tunnel). Throws std::invalid_argument naming the problem; the message never contains
// the credentials.
[[nodiscard]] Proxy ParseProxyUrl(std::string_view url);

// Whether a NO_PROXY list exempts host (a DNS name or an IP address without brackets) on port.
// Entries are separated by commas (white space around them ignored) and compared
// case-insensitively: `*` exempts every host; `example.com`, `.example.com` and
// `*.example.com` each exempt example.com and every name under it; an IP address exempts that
// address (IPv6 with or without brackets); any entry may end in `:port` to exempt that port
// only.
[[nodiscard]] bool NoProxyExempts(std::string_view no_proxy, std::string_view host,
                                  std::string_view port);

// The proxy a request to scheme://host:port goes through, or nullopt for a direct connection:
// https_proxy for https (tls), http_proxy for http, unless NO_PROXY exempts the host. As in
// Go's net/http, localhost and loopback addresses are always reached directly. Throws
// std::invalid_argument (ParseProxyUrl) when the chosen proxy URL is unusable.
[[nodiscard]] std::optional<Proxy> ProxyFor(const ProxySettings& settings, bool tls,
                                            std::string_view host, std::string_view port);

}  // namespace concord::connectors
