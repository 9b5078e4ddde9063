// The Prometheus text renderer and the registry behind it.

#include "daemon/metrics.hpp"

#include <gtest/gtest.h>

namespace concord::daemon {
namespace {

TEST(RenderPrometheusTest, CounterWithEscapedLabels) {
  MetricFamily f{"concord_runs_total", "Finished runs.\nby tenant", MetricType::kCounter, {}};
  f.samples.push_back({"", {{"tenant", "a\"b\\c\nd"}, {"status", "ok"}}, 3});
  EXPECT_EQ(RenderPrometheus({f}),
            "# HELP concord_runs_total Finished runs.\\nby tenant\n"
            "# TYPE concord_runs_total counter\n"
            "concord_runs_total{tenant=\"a\\\"b\\\\c\\nd\",status=\"ok\"} 3\n");
}

TEST(RenderPrometheusTest, ValuesWithoutLabels) {
  MetricFamily f{"g", "h", MetricType::kGauge, {}};
  f.samples.push_back({"", {}, 1.5});
  f.samples.push_back({"", {{"a", "b"}}, 1700000000});
  EXPECT_EQ(RenderPrometheus({f}), "# HELP g h\n# TYPE g gauge\ng 1.5\ng{a=\"b\"} 1700000000\n");
}

TEST(MetricsTest, CountersAddAndGaugesSet) {
  Metrics m;
  m.Add("concord_runs_total", {{"tenant", "acme"}, {"trigger", "manual"}, {"status", "failed"}});
  m.Add("concord_runs_total", {{"tenant", "acme"}, {"trigger", "manual"}, {"status", "failed"}});
  m.Set("concord_last_success_timestamp_seconds", {{"tenant", "acme"}}, 42);
  m.Set("concord_last_success_timestamp_seconds", {{"tenant", "acme"}}, 43);
  m.Add("concord_no_such_metric", {});  // ignored, never a crash
  auto text = RenderPrometheus(m.Snapshot());
  EXPECT_NE(
      text.find("concord_runs_total{tenant=\"acme\",trigger=\"manual\",status=\"failed\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("concord_last_success_timestamp_seconds{tenant=\"acme\"} 43\n"),
            std::string::npos);
  EXPECT_EQ(text.find("concord_no_such_metric"), std::string::npos);
}

TEST(MetricsTest, ForgetDropsEverySeriesOfATenant) {
  Metrics m;
  m.Add("concord_runs_total", {{"tenant", "gone"}, {"trigger", "schedule"}, {"status", "failed"}});
  m.Set("concord_last_success_timestamp_seconds", {{"tenant", "gone"}}, 42);
  m.Observe("concord_run_duration_seconds", {{"tenant", "gone"}}, 1.5);
  m.Set("concord_last_success_timestamp_seconds", {{"tenant", "kept"}}, 43);
  m.Forget("tenant", "gone");
  auto text = RenderPrometheus(m.Snapshot());
  EXPECT_EQ(text.find("gone"), std::string::npos) << text;
  EXPECT_NE(text.find("concord_last_success_timestamp_seconds{tenant=\"kept\"} 43\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics m;
  m.Observe("concord_run_duration_seconds", {{"tenant", "acme"}}, 0.05);
  m.Observe("concord_run_duration_seconds", {{"tenant", "acme"}}, 2);
  m.Observe("concord_run_duration_seconds", {{"tenant", "acme"}}, 7200);
  auto text = RenderPrometheus(m.Snapshot());
  EXPECT_NE(text.find("# TYPE concord_run_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("concord_run_duration_seconds_bucket{tenant=\"acme\",le=\"0.1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("concord_run_duration_seconds_bucket{tenant=\"acme\",le=\"5\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("concord_run_duration_seconds_bucket{tenant=\"acme\",le=\"3600\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("concord_run_duration_seconds_bucket{tenant=\"acme\",le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("concord_run_duration_seconds_sum{tenant=\"acme\"} 7202.05"),
            std::string::npos);
  EXPECT_NE(text.find("concord_run_duration_seconds_count{tenant=\"acme\"} 3\n"),
            std::string::npos);
}

// The counter a Xero source's limit hits feed (daemon/sources.cpp), as an operator scrapes it.
TEST(MetricsTest, RateLimitHitsByTenantConnectorAndLimit) {
  Metrics metrics;
  metrics.Add("concord_rate_limit_hits_total",
              {{"tenant", "acme"}, {"connector", "xero"}, {"limit", "day"}});
  metrics.Add("concord_rate_limit_hits_total",
              {{"tenant", "acme"}, {"connector", "xero"}, {"limit", "minute"}}, 2);
  const std::string text = RenderPrometheus(metrics.Snapshot());
  EXPECT_NE(text.find("# TYPE concord_rate_limit_hits_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("concord_rate_limit_hits_total{tenant=\"acme\",connector=\"xero\","
                      "limit=\"day\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("concord_rate_limit_hits_total{tenant=\"acme\",connector=\"xero\","
                      "limit=\"minute\"} 2\n"),
            std::string::npos)
      << text;
}

// Every family follows the naming scheme: concord_ prefix, counters end in _total.
TEST(MetricsTest, NamingScheme) {
  for (const auto& f : Metrics().Snapshot()) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(f.name.starts_with("concord_"));
    EXPECT_EQ(f.name.ends_with("_total"), f.type == MetricType::kCounter);
    EXPECT_FALSE(f.help.empty());
  }
}

}  // namespace
}  // namespace concord::daemon
