#pragma once
// A scripted HttpTransport for the connector tests: no network, every request remembered.

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "connectors/http_client.hpp"

namespace concord::connectors::testing {

// Answers requests from a script (a response, or a transport failure to throw), remembers
// what was asked, and records the waits between retries instead of sleeping. A request
// beyond the script fails the test and gets a 404.
class ScriptedTransport final : public HttpTransport {
 public:
  using Step = std::variant<HttpResponse, TransportError>;
  struct Log {
    std::vector<HttpRequest> requests;
    std::deque<Step> responses;
    std::vector<std::chrono::milliseconds> sleeps;

    SleepFunction Sleep() {
      return [this](std::chrono::milliseconds pause) { sleeps.push_back(pause); };
    }
  };

  explicit ScriptedTransport(Log& log) : log_(log) {}

  HttpResponse Get(const HttpRequest& request) override {
    log_.requests.push_back(request);
    if (log_.responses.empty()) {
      ADD_FAILURE() << "unexpected request " << request.url;
      return HttpResponse{404, "Not Found", {}, {}};
    }
    Step step = std::move(log_.responses.front());
    log_.responses.pop_front();
    if (auto* failure = std::get_if<TransportError>(&step)) throw *failure;
    return std::get<HttpResponse>(std::move(step));
  }

 private:
  Log& log_;
};

// The value of the request's header `name` (exact case), if it was sent.
inline std::optional<std::string> HeaderOf(const HttpRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

}  // namespace concord::connectors::testing
