#pragma once
// Metrics in the Prometheus text format (STYLE.md 16): concord_* names, base units, _total for
// counters, low-cardinality labels (tenant, trigger, status, side, kind, route). A registry the
// daemon updates from any thread, and a pure renderer of its snapshot.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concord::daemon {

using Labels = std::vector<std::pair<std::string, std::string>>;  // in the order rendered

enum class MetricType { kCounter, kGauge, kHistogram };

struct MetricSample {
  std::string suffix;  // "" or, for histograms, "_bucket", "_sum", "_count"
  Labels labels;
  double value = 0;
};

struct MetricFamily {
  std::string name, help;
  MetricType type = MetricType::kCounter;
  std::vector<MetricSample> samples;
};

// The text exposition format, version 0.0.4: HELP and TYPE lines, then one line per sample.
// Label values are escaped (backslash, double quote, newline). Pure.
std::string RenderPrometheus(const std::vector<MetricFamily>& families);

// The daemon's metrics. Thread-safe; every family is declared up front (an unknown name is a
// programming error and is ignored rather than crashing the service).
class Metrics {
 public:
  Metrics();

  void Add(std::string_view name, const Labels& labels, double amount = 1);
  void Set(std::string_view name, const Labels& labels, double value);
  void Observe(std::string_view name, const Labels& labels, double value);
  // Drops every series, of every family, that has this label with this value: a tenant a
  // reload removed stops showing its last values.
  void Forget(std::string_view label, std::string_view value);

  // Every family, its series sorted by labels; histograms expanded to buckets, sum and count.
  [[nodiscard]] std::vector<MetricFamily> Snapshot() const;

 private:
  struct Series {
    double value = 0;                   // counter, gauge
    std::vector<std::uint64_t> counts;  // histogram, one per bucket (not cumulative)
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    std::string help;
    MetricType type;
    std::vector<double> buckets;
    std::map<Labels, Series> series;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace concord::daemon
