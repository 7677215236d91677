// MetricsRegistry: a small Prometheus registry (counters, gauges and
// histograms with labels) and its text exposition format 0.0.4.
//
//   MetricsRegistry m;
//   CounterFamily& requests = m.AddCounter(
//       "genogate_http_requests_total", "HTTP requests", {"route", "code"});
//   requests.WithLabels({"submissions.create", "2xx"}).Inc();
//   std::string text = m.Render();   // what /metrics serves
//
// Recording is lock-cheap: a Counter/Gauge/Histogram is a handful of
// atomics; WithLabels takes a shared (reader) lock to find an existing
// child and an exclusive lock only the first time a label set is seen.
// References returned by Add* and WithLabels stay valid for the registry's
// lifetime, so hot paths may keep them.
//
// Callback families compute their samples at scrape time (e.g. queue depth
// from Redis); Render calls them on the scraping thread, so they may block
// briefly (the /metrics handler runs on a handler thread).
//
// Label values are escaped as the format requires. Never put PHI in a label
// (patient or accession identifiers): labels are for routes, endpoints,
// outcomes and codes.
//
// Thread-safety: everything here is thread-safe.
#ifndef GENOGATE_GATEWAY_SERVER_METRICS_H_
#define GENOGATE_GATEWAY_SERVER_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genogate::gateway {

class Counter {
 public:
  // Adds `v` (must be >= 0; negative values are ignored).
  void Inc(double v = 1);
  double Value() const;

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v);
  void Add(double v);
  double Value() const;

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: strictly increasing upper bounds (the +Inf bucket is implied).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count per bucket (bounds().size() + 1 entries).
  std::vector<uint64_t> BucketCounts() const;
  uint64_t Count() const;
  double Sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds (1 ms .. 60 s).
std::vector<double> LatencyBuckets();

namespace internal {

// The shared part of a family: name, help, label names, children by label
// values.
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::function<std::unique_ptr<T>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        make_(std::move(make)) {}

  // The child for these label values (as many as label names; missing
  // values are empty, extra ones ignored), created on first use.
  T& WithLabels(const std::vector<std::string>& values) {
    std::vector<std::string> key = values;
    key.resize(labels_.size());
    {
      std::shared_lock lock(mu_);
      auto it = children_.find(key);
      if (it != children_.end()) return *it->second;
    }
    std::unique_lock lock(mu_);
    auto [it, inserted] = children_.try_emplace(std::move(key), nullptr);
    if (inserted) it->second = make_();
    return *it->second;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }

  // Calls f(label values, child) for each child, in label order.
  template <typename F>
  void ForEach(F&& f) const {
    std::shared_lock lock(mu_);
    for (const auto& [k, v] : children_) f(k, *v);
  }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

}  // namespace internal

using CounterFamily = internal::Family<Counter>;
using GaugeFamily = internal::Family<Gauge>;
using HistogramFamily = internal::Family<Histogram>;

// One sample of a callback family: label values and value.
struct MetricSample {
  std::vector<std::string> labels;
  double value = 0;
};

class MetricsRegistry {
 public:
  enum class Type { kCounter, kGauge };

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family. Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label
  // names [a-zA-Z_][a-zA-Z0-9_]*; adding the same name again returns the
  // existing family when its type and labels agree. A bad name or a clash
  // is a programming error: it aborts (caught by the first test run).
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> labels = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> labels = {});
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> labels,
                                std::vector<double> bounds = LatencyBuckets());

  // A family whose samples `collect` returns at scrape time (e.g. queue
  // depth per endpoint). `collect` must not call back into this registry.
  void AddCallback(std::string name, std::string help, Type type,
                   std::vector<std::string> labels,
                   std::function<std::vector<MetricSample>()> collect);

  // The text exposition format 0.0.4 of every family, in name order.
  std::string Render() const;

  // Content-Type of Render()'s output.
  static constexpr std::string_view kContentType =
      "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Entry;
  Entry& Register(const std::string& name, int kind,
                  const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> families_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_SERVER_METRICS_H_
