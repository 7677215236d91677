#include "gateway/server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace genogate::gateway {

void Counter::Inc(double v) {
  if (!(v >= 0)) return;
  value_.fetch_add(v, std::memory_order_relaxed);
}
double Counter::Value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::Set(double v) { value_.store(v, std::memory_order_relaxed); }
void Gauge::Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
double Gauge::Value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}
uint64_t Histogram::Count() const {
  return count_.load(std::memory_order_relaxed);
}
double Histogram::Sum() const { return sum_.load(std::memory_order_relaxed); }

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1,      2.5,   5,    10,    30,   60};
}

namespace {

enum Kind { kCounterKind, kGaugeKind, kHistogramKind, kCallbackKind };

bool ValidName(std::string_view s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "genogate: metrics: %s\n", message.c_str());
  std::abort();
}

std::string EscapeHelp(std::string_view s) {
  std::string out;
  for (char c : s) {
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

std::string EscapeLabel(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip
  return std::string(buf, r.ptr);
}

// {a="x",b="y"} (with an optional extra label, e.g. le), or "" for none.
std::string LabelText(const std::vector<std::string>& names,
                      const std::vector<std::string>& values,
                      std::string_view extra_name = {},
                      std::string_view extra_value = {}) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" +
           EscapeLabel(i < values.size() ? values[i] : std::string()) + "\"";
  }
  if (!extra_name.empty()) {
    out += out.empty() ? "{" : ",";
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  if (!out.empty()) out += "}";
  return out;
}

}  // namespace

struct MetricsRegistry::Entry {
  int kind = kCounterKind;
  std::string name;
  std::string help;
  std::vector<std::string> labels;
  std::unique_ptr<CounterFamily> counter;
  std::unique_ptr<GaugeFamily> gauge;
  std::unique_ptr<HistogramFamily> histogram;
  Type callback_type = Type::kGauge;
  std::function<std::vector<MetricSample>()> collect;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Entry& MetricsRegistry::Register(
    const std::string& name, int kind, const std::vector<std::string>& labels) {
  if (!ValidName(name, true)) Die("bad metric name '" + name + "'");
  for (const std::string& l : labels) {
    if (!ValidName(l, false) || l == "le") {
      Die("bad label name '" + l + "' of " + name);
    }
  }
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second->kind != kind || it->second->labels != labels) {
      Die("metric " + name + " registered twice with different shapes");
    }
    return *it->second;
  }
  auto e = std::make_unique<Entry>();
  e->kind = kind;
  e->name = name;
  e->labels = labels;
  Entry& ref = *e;
  families_.emplace(name, std::move(e));
  return ref;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Register(name, kCounterKind, labels);
  if (!e.counter) {
    e.help = help;
    e.counter = std::make_unique<CounterFamily>(
        name, help, labels, [] { return std::make_unique<Counter>(); });
  }
  return *e.counter;
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Register(name, kGaugeKind, labels);
  if (!e.gauge) {
    e.help = help;
    e.gauge = std::make_unique<GaugeFamily>(
        name, help, labels, [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauge;
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name,
                                               std::string help,
                                               std::vector<std::string> labels,
                                               std::vector<double> bounds) {
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i] > bounds[i - 1])) Die("histogram bounds of " + name);
  }
  std::lock_guard lock(mu_);
  Entry& e = Register(name, kHistogramKind, labels);
  if (!e.histogram) {
    e.help = help;
    e.histogram = std::make_unique<HistogramFamily>(
        name, help, labels,
        [bounds] { return std::make_unique<Histogram>(bounds); });
  }
  return *e.histogram;
}

void MetricsRegistry::AddCallback(
    std::string name, std::string help, Type type,
    std::vector<std::string> labels,
    std::function<std::vector<MetricSample>()> collect) {
  std::lock_guard lock(mu_);
  Entry& e = Register(name, kCallbackKind, labels);
  e.help = std::move(help);
  e.callback_type = type;
  e.collect = std::move(collect);
}

std::string MetricsRegistry::Render() const {
  // Copy the entry list under the lock, render outside it (callbacks may
  // block; families have their own locks).
  std::vector<const Entry*> entries;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : families_) entries.push_back(e.get());
  }
  std::string out;
  for (const Entry* e : entries) {
    const char* type = "counter";
    if (e->kind == kGaugeKind ||
        (e->kind == kCallbackKind && e->callback_type == Type::kGauge)) {
      type = "gauge";
    } else if (e->kind == kHistogramKind) {
      type = "histogram";
    }
    out += "# HELP " + e->name + " " + EscapeHelp(e->help) + "\n";
    out += "# TYPE " + e->name + " " + type + "\n";
    switch (e->kind) {
      case kCounterKind:
        e->counter->ForEach([&](const auto& labels, const Counter& c) {
          out += e->name + LabelText(e->labels, labels) + " " +
                 FormatValue(c.Value()) + "\n";
        });
        break;
      case kGaugeKind:
        e->gauge->ForEach([&](const auto& labels, const Gauge& g) {
          out += e->name + LabelText(e->labels, labels) + " " +
                 FormatValue(g.Value()) + "\n";
        });
        break;
      case kHistogramKind:
        e->histogram->ForEach([&](const auto& labels, const Histogram& h) {
          std::vector<uint64_t> counts = h.BucketCounts();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            std::string le =
                i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
            out += e->name + "_bucket" +
                   LabelText(e->labels, labels, "le", le) + " " +
                   std::to_string(cumulative) + "\n";
          }
          out += e->name + "_sum" + LabelText(e->labels, labels) + " " +
                 FormatValue(h.Sum()) + "\n";
          // The count equals the +Inf bucket (read from the same snapshot,
          // so the two agree even while requests are being recorded).
          out += e->name + "_count" + LabelText(e->labels, labels) + " " +
                 std::to_string(cumulative) + "\n";
        });
        break;
      case kCallbackKind: {
        std::vector<MetricSample> samples;
        if (e->collect) samples = e->collect();
        for (const MetricSample& s : samples) {
          out += e->name + LabelText(e->labels, s.labels) + " " +
                 FormatValue(s.value) + "\n";
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace genogate::gateway
