// concord-fake: fake Xero Contacts, QuickBooks Online Customer, MYOB Customer and SCIM Users
// servers for tests,
// the demo and the benchmark. This file is the imperative shell: command line, clock,
// randomness, counters, signals. The answers themselves come from the pure handlers in
// xero_api.cpp, qbo_api.cpp, myob_api.cpp and scim_api.cpp.

#include <CLI/CLI.hpp>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "expected.hpp"
#include "faults.hpp"
#include "generator.hpp"
#include "http_server.hpp"
#include "http_util.hpp"
#include "myob_api.hpp"
#include "qbo_api.hpp"
#include "reconcile/model.hpp"
#include "renderings.hpp"
#include "scim_api.hpp"
#include "xero_api.hpp"
#include "xero_identity.hpp"

namespace {

namespace asio = boost::asio;
using concord::reconcile::Millis;

// The wall clock as UTC milliseconds; the only place the fake reads it.
Millis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Options {
  std::string data_file;
  std::uint64_t generate = 0;
  std::uint64_t seed = 1;
  std::uint64_t changes = 0;
  bool dump = false;
  bool expect = false;
  bool portable = false;
  std::vector<std::string> render;  // further finance dialects of --generate: "qbo", "myob"
  std::string write_csv;
  std::string listen_address = "127.0.0.1";
  std::uint16_t xero_port = 0;
  std::uint16_t scim_port = 0;
  std::uint16_t qbo_port = 0;
  std::uint16_t myob_port = 0;
  std::optional<unsigned> fail_xero;
  std::optional<unsigned> fail_qbo;
  std::optional<unsigned> fail_myob;
  std::optional<unsigned> fail_scim;
  std::int64_t xero_minute_limit = 60;
  std::int64_t xero_day_limit = 5000;
  std::int64_t xero_app_minute_limit = 10000;
  std::vector<std::string> faults;  // --fault JSON, armed at start (faults.hpp)
};

// Random v4 UUIDs for response ids; not reproducible, and they need not be.
class UuidSource {
 public:
  UuidSource() : rng_(std::random_device{}()) {}
  std::string Next() {
    const std::uint64_t hi = (rng_() & 0xFFFFFFFFFFFF0FFFULL) | 0x4000ULL;
    const std::uint64_t lo = (rng_() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    std::array<char, 37> buf{};
    std::snprintf(buf.data(), buf.size(), "%08llx-%04llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                  static_cast<unsigned long long>(hi & 0xFFFF),
                  static_cast<unsigned long long>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return std::string(buf.data(), 36);
  }

 private:
  std::mt19937_64 rng_;
};

int Serve(const Options& options, concord::fake::DatasetSource& source,
          const std::shared_ptr<concord::fake::FaultPlan>& faults) {
  using concord::fake::HttpRequest;
  asio::io_context ioc{1};
  UuidSource uuids;
  concord::fake::XeroRateCounter rate;
  concord::fake::XeroIdentity identity;

  auto xero_handler = [&](const HttpRequest& req) {
    const auto dataset = faults->Data("xero", source.Current());
    const concord::fake::XeroTenant& tenant = dataset->xero;
    const Millis now = NowMillis();
    const std::string_view target(req.target().data(), req.target().size());
    if (tenant.oauth && target.substr(0, target.find('?')) == concord::fake::kXeroTokenPath) {
      return identity.HandleTokenRequest(req, *tenant.oauth, now, [&] { return uuids.Next(); });
    }
    concord::fake::XeroRequestContext ctx;
    ctx.now_ms = now;
    ctx.request_id = uuids.Next();
    ctx.correlation_id = uuids.Next();
    const auto decision = rate.Count(now,
                                     tenant.rate_limits.value_or(concord::fake::XeroRateLimits{
                                         options.xero_minute_limit, options.xero_day_limit}),
                                     tenant.rate_limits.has_value(), options.xero_app_minute_limit);
    ctx.remaining = decision.remaining;
    ctx.limit_problem = decision.problem;
    ctx.retry_after_seconds = decision.retry_after_seconds;
    ctx.fail_status = options.fail_xero;
    if (tenant.oauth) {
      const auto token = concord::fake::BearerToken(req);
      ctx.bearer_valid = token && identity.AccessTokenValid(*token, now);
    }
    return concord::fake::HandleXeroRequest(req, tenant, ctx);
  };
  auto scim_handler = [&](const HttpRequest& req) {
    const auto dataset = faults->Data("scim", source.Current());
    concord::fake::ScimRequestContext ctx;
    ctx.now_ms = NowMillis();
    ctx.fail_status = options.fail_scim;
    return concord::fake::HandleScimRequest(req, dataset->scim, ctx);
  };
  auto qbo_handler = [&](const HttpRequest& req) {
    const auto dataset = faults->Data("qbo", source.Current());
    concord::fake::QboRequestContext ctx;
    ctx.now_ms = NowMillis();
    ctx.intuit_tid = "1-" + uuids.Next();
    ctx.fail_status = options.fail_qbo;
    return concord::fake::HandleQboRequest(req, dataset->qbo, ctx);
  };
  auto myob_handler = [&](const HttpRequest& req) {
    const auto dataset = faults->Data("myob", source.Current());
    concord::fake::MyobRequestContext ctx;
    ctx.now_ms = NowMillis();
    ctx.request_id = uuids.Next();
    ctx.fail_status = options.fail_myob;
    return concord::fake::HandleMyobRequest(req, dataset->myob, ctx);
  };

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.listen_address, ec);
  if (ec) {
    std::fprintf(stderr, "concord-fake: --listen-address '%s' is not an IP address\n",
                 options.listen_address.c_str());
    return kExitUsage;
  }
  std::optional<concord::fake::HttpServer> xero;
  std::optional<concord::fake::HttpServer> scim;
  std::optional<concord::fake::HttpServer> qbo;
  std::optional<concord::fake::HttpServer> myob;
  try {
    xero.emplace(ioc, asio::ip::tcp::endpoint(address, options.xero_port),
                 concord::fake::HttpServerSettings{}, xero_handler, "xero", faults);
    scim.emplace(ioc, asio::ip::tcp::endpoint(address, options.scim_port),
                 concord::fake::HttpServerSettings{}, scim_handler, "scim", faults);
    qbo.emplace(ioc, asio::ip::tcp::endpoint(address, options.qbo_port),
                concord::fake::HttpServerSettings{}, qbo_handler, "qbo", faults);
    myob.emplace(ioc, asio::ip::tcp::endpoint(address, options.myob_port),
                 concord::fake::HttpServerSettings{}, myob_handler, "myob", faults);
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "concord-fake: cannot listen: %s\n", e.what());
    return kExitFailure;
  }
  xero->Start();
  scim->Start();
  qbo->Start();
  myob->Start();

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    std::fprintf(stderr, "concord-fake: signal %d, stopping\n", signal_number);
    xero->Stop();
    scim->Stop();
    qbo->Stop();
    myob->Stop();
    ioc.stop();
  });

  {
    const auto dataset = source.Current();
    std::fprintf(stderr,
                 "concord-fake: %zu contacts, %zu users, %zu qbo customers, %zu myob customers; "
                 "xero on %s:%u, scim on %s:%u, qbo on %s:%u, myob on %s:%u\n",
                 dataset->xero.contacts.size(), dataset->scim.users.size(),
                 dataset->qbo.customers.size(), dataset->myob.customers.size(),
                 options.listen_address.c_str(), xero->Port(), options.listen_address.c_str(),
                 scim->Port(), options.listen_address.c_str(), qbo->Port(),
                 options.listen_address.c_str(), myob->Port());
  }
  // The one line on stdout: tests and scripts wait for it.
  std::printf("{\"xero_port\":%u,\"scim_port\":%u,\"qbo_port\":%u,\"myob_port\":%u}\n",
              xero->Port(), scim->Port(), qbo->Port(), myob->Port());
  std::fflush(stdout);

  ioc.run();
  return kExitOk;
}

// Writes the generated finance side as CSV to `path` through a temporary file renamed into
// place, so a reader watching the directory never sees half a file. False (said on stderr)
// when it cannot be written.
bool WriteCsv(const concord::fake::GeneratorSettings& generator, const std::string& path) {
  const std::string part = path + ".part";
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    if (out) concord::fake::WriteGeneratedCsv(generator, out);
    if (!out.flush()) {
      std::fprintf(stderr, "concord-fake: --write-csv: cannot write '%s'\n", part.c_str());
      return false;
    }
  }
  if (std::rename(part.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "concord-fake: --write-csv: cannot rename '%s' to '%s'\n", part.c_str(),
                 path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "concord-fake: fake Xero Contacts, QuickBooks Online Customer, MYOB Customer and SCIM 2.0 "
      "Users APIs on loopback.\nPrints {\"xero_port\":N,\"scim_port\":M,\"qbo_port\":Q,"
      "\"myob_port\":B} on stdout once all listen, then serves until SIGINT/SIGTERM."};
  app.set_version_flag("--version", "concord-fake 0.1.0");
  auto* data =
      app.add_option("--data", options.data_file, "data file to serve; re-read when it changes")
          ->check(CLI::ExistingFile);
  auto* generate = app.add_option("--generate", options.generate,
                                  "serve a generated tenant with N finance persons");
  data->excludes(generate);
  app.add_option("--seed", options.seed, "seed of --generate (default 1)")->needs(generate);
  app.add_option("--changes", options.changes,
                 "with --generate: change K finance persons and K users, updated now")
      ->needs(generate);
  auto* dump = app.add_flag("--dump", options.dump,
                            "write the generated tenant as a data file to stdout, exit")
                   ->needs(generate);
  app.add_flag("--expect", options.expect,
               "write the generated tenant's expected canonical persons (JSON Lines), exit")
      ->needs(generate)
      ->excludes(dump);
  app.add_flag("--portable", options.portable,
               "with --generate: keep to what Xero, QBO, MYOB and CSV can all represent")
      ->needs(generate);
  app.add_option("--render", options.render,
                 "with --generate: also serve the finance side as qbo and/or myob customers")
      ->delimiter(',')
      ->check(CLI::IsMember({"qbo", "myob"}))
      ->needs(generate);
  app.add_option("--write-csv", options.write_csv,
                 "with --generate: also write the finance side as a CSV file at PATH")
      ->needs(generate);
  app.add_option("--listen-address", options.listen_address,
                 "IP address to listen on (default 127.0.0.1)");
  app.add_option("--xero-port", options.xero_port, "Xero port (default 0: the OS picks)");
  app.add_option("--scim-port", options.scim_port, "SCIM port (default 0: the OS picks)");
  app.add_option("--qbo-port", options.qbo_port, "QBO port (default 0: the OS picks)");
  app.add_option("--myob-port", options.myob_port, "MYOB port (default 0: the OS picks)");
  app.add_option("--fail-xero", options.fail_xero,
                 "answer every Xero request with this status (429, 500, 503, ...)")
      ->check(CLI::Range(400, 599));
  app.add_option("--fail-scim", options.fail_scim,
                 "answer every SCIM request with this status (429, 500, 503, ...)")
      ->check(CLI::Range(400, 599));
  app.add_option("--fail-qbo", options.fail_qbo,
                 "answer every QBO request with this status (401, 429, 500, ...)")
      ->check(CLI::Range(400, 599));
  app.add_option("--fail-myob", options.fail_myob,
                 "answer every MYOB request with this status (401, 403 rate limit, 500, ...)")
      ->check(CLI::Range(400, 599));
  app.add_option("--fault", options.faults,
                 "arm a fault: a JSON object or array as POST /_fake/faults takes (README.md); "
                 "repeatable");
  app.add_option("--xero-minute-limit", options.xero_minute_limit,
                 "calls per minute behind X-MinLimit-Remaining (default 60; reported only)");
  app.add_option("--xero-day-limit", options.xero_day_limit,
                 "calls per day behind X-DayLimit-Remaining (default 5000; reported only)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (options.data_file.empty() && generate->count() == 0) {
    std::fprintf(stderr, "concord-fake: one of --data FILE or --generate N is required\n");
    return kExitUsage;
  }

  concord::fake::GeneratorSettings generator;
  generator.persons = options.generate;
  generator.seed = options.seed;
  generator.changes = options.changes;
  // Whole seconds, as SCIM's lastModified has them, so both sources agree on when it changed.
  generator.changed_at = NowMillis() / 1000 * 1000;
  generator.portable = options.portable;
  for (const std::string& kind : options.render) {
    (kind == "qbo" ? generator.render_qbo : generator.render_myob) = true;
  }
  try {
    if (!options.write_csv.empty() && !WriteCsv(generator, options.write_csv)) return kExitUsage;
    if (options.dump || options.expect) {
      std::ios::sync_with_stdio(false);
      if (options.dump) {
        concord::fake::WriteGeneratedDataFile(generator, std::cout);
      } else {
        concord::fake::WriteExpectedProjection(generator, std::cout);
      }
      std::cout.flush();
      return std::cout ? kExitOk : kExitFailure;
    }
    auto faults = std::make_shared<concord::fake::FaultPlan>();
    for (const std::string& text : options.faults) {
      for (auto& fault : concord::fake::ParseFaults(text)) faults->Add(std::move(fault));
    }
    std::optional<concord::fake::DatasetSource> source;
    if (!options.data_file.empty()) {
      source.emplace(options.data_file);
    } else {
      source.emplace(concord::fake::GenerateDataset(generator));
    }
    return Serve(options, *source, faults);
  } catch (const concord::fake::DatasetError& e) {
    std::fprintf(stderr, "concord-fake: %s\n", e.what());
    return kExitUsage;
  } catch (const concord::fake::FaultError& e) {
    std::fprintf(stderr, "concord-fake: --fault: %s\n", e.what());
    return kExitUsage;
  } catch (const std::invalid_argument& e) {  // --changes too many, --render myob not portable
    std::fprintf(stderr, "concord-fake: %s\n", e.what());
    return kExitUsage;
  }
}
