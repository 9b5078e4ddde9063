#include "daemon/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace concord::daemon {
namespace {

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::string BucketBound(double bound) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", bound);
  return buffer;
}

}  // namespace

std::string RenderPrometheus(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& family : families) {
    out += "# HELP " + family.name + " " + EscapeHelp(family.help) + "\n";
    out += "# TYPE " + family.name + " " + std::string(TypeName(family.type)) + "\n";
    for (const auto& sample : family.samples) {
      out += family.name + sample.suffix;
      if (!sample.labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < sample.labels.size(); ++i) {
          if (i) out += ',';
          out += sample.labels[i].first + "=\"" + EscapeLabel(sample.labels[i].second) + '"';
        }
        out += '}';
      }
      out += ' ' + FormatValue(sample.value) + '\n';
    }
  }
  return out;
}

Metrics::Metrics() {
  auto declare = [&](std::string name, std::string help, MetricType type,
                     std::vector<double> buckets = {}) {
    families_.emplace(std::move(name), Family{std::move(help), type, std::move(buckets), {}});
  };
  declare("concord_runs_total", "Finished runs by tenant, trigger and status.",
          MetricType::kCounter);
  declare("concord_run_duration_seconds", "Duration of finished runs.", MetricType::kHistogram,
          {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600});
  declare("concord_records_fetched_total", "Source records fetched, by tenant and side.",
          MetricType::kCounter);
  declare("concord_decisions_total", "Decisions applied, by tenant and kind.",
          MetricType::kCounter);
  declare("concord_review_items_open", "Open review items per tenant (read at scrape time).",
          MetricType::kGauge);
  declare("concord_http_requests_total", "Admin API requests by route and status.",
          MetricType::kCounter);
  declare("concord_webhooks_total",
          "Finance webhook deliveries by source (xero, qbo) and outcome (accepted, ignored, "
          "bad_signature, unknown_tenant, invalid_payload).",
          MetricType::kCounter);
  declare("concord_run_errors_total",
          "Failed runs by tenant and kind of error (source, lease, database, other).",
          MetricType::kCounter);
  declare("concord_last_success_timestamp_seconds",
          "Unix time of the tenant's last successful sync.", MetricType::kGauge);
  declare("concord_rate_limit_hits_total",
          "Vendor call limits hit, by tenant, connector and limit (minute, day, ...): a minute "
          "limit waits, a day limit fails the run.",
          MetricType::kCounter);
  declare("concord_scheduler_claims_total", "Tenants this replica claimed from the schedule.",
          MetricType::kCounter);
}

void Metrics::Add(std::string_view name, const Labels& labels, double amount) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != MetricType::kCounter) return;
  it->second.series[labels].value += amount;
}

void Metrics::Set(std::string_view name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != MetricType::kGauge) return;
  it->second.series[labels].value = value;
}

void Metrics::Forget(std::string_view label, std::string_view value) {
  std::lock_guard lock(mutex_);
  for (auto& [name, family] : families_) {
    std::erase_if(family.series, [&](const auto& entry) {
      return std::any_of(entry.first.begin(), entry.first.end(), [&](const auto& pair) {
        return pair.first == label && pair.second == value;
      });
    });
  }
}

void Metrics::Observe(std::string_view name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != MetricType::kHistogram) return;
  auto& family = it->second;
  auto& series = family.series[labels];
  series.counts.resize(family.buckets.size());
  for (std::size_t i = 0; i < family.buckets.size(); ++i) {
    if (value <= family.buckets[i]) {
      ++series.counts[i];
      break;
    }
  }
  series.sum += value;
  ++series.count;
}

std::vector<MetricFamily> Metrics::Snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<MetricFamily> out;
  for (const auto& [name, family] : families_) {
    MetricFamily f{name, family.help, family.type, {}};
    for (const auto& [labels, series] : family.series) {
      if (family.type != MetricType::kHistogram) {
        f.samples.push_back({"", labels, series.value});
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < family.buckets.size(); ++i) {
        cumulative += i < series.counts.size() ? series.counts[i] : 0;
        auto with_le = labels;
        with_le.emplace_back("le", BucketBound(family.buckets[i]));
        f.samples.push_back({"_bucket", std::move(with_le), static_cast<double>(cumulative)});
      }
      auto inf = labels;
      inf.emplace_back("le", "+Inf");
      f.samples.push_back({"_bucket", std::move(inf), static_cast<double>(series.count)});
      f.samples.push_back({"_sum", labels, series.sum});
      f.samples.push_back({"_count", labels, static_cast<double>(series.count)});
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace concord::daemon
