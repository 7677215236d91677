// genogate queue stats|dead|replay|discard|work --redis URL --key-file FILE:
// operator commands over the Redis delivery queue, and `work`, a
// delivery-only process (DeliveryService) for scaling delivery apart from
// the server that accepts results.
//
// The queue is opened with Durability::kUnchecked: these commands inspect,
// repair and deliver jobs, they never accept new results from a lab, so they
// do not insist on the server's fsync policy (the gateway does).
#include <signal.h>

#include <ctime>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "gateway/delivery/delivery_service.h"
#include "gateway/queue/redis_queue.h"
#include "gateway/security/audit.h"
#include "gateway/security/security_config.h"

namespace genogate::cli {
namespace {

struct QueueOptions {
  std::string redis = "redis://127.0.0.1:6379/0";
  std::string key_file;
  std::string prefix = "genogate:";
  std::string endpoint;
  std::vector<std::string> ids;
  int64_t offset = 0;
  int64_t limit = 100;
  // work
  std::string config;
  std::vector<std::string> work_endpoints;
  int64_t reclaim_after_ms = 120'000;
  std::string audit_key_file;
  CLI::App* work = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* dead = nullptr;
  CLI::App* replay = nullptr;
  CLI::App* discard = nullptr;
};

std::string Iso(gateway::Timestamp t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::unique_ptr<gateway::RedisQueue>> Open(const QueueOptions& o) {
  Result<gateway::RedisOptions> redis = gateway::RedisOptions::FromUrl(o.redis);
  if (!redis.ok()) return redis.error();
  Result<gateway::KeyRing> keys = gateway::KeyRing::LoadFile(o.key_file);
  if (!keys.ok()) return keys.error();
  gateway::RedisQueueOptions ro;
  ro.redis = *redis;
  ro.key_prefix = o.prefix;
  ro.durability = gateway::RedisQueueOptions::Durability::kUnchecked;
  ro.queue.reclaim_idle = std::chrono::milliseconds(o.reclaim_after_ms);
  return gateway::RedisQueue::Create(
      ro, std::make_shared<const gateway::KeyRing>(std::move(keys).value()));
}

// The endpoints `queue work` delivers to: every endpoint of --config, or
// those named by --endpoint NAME; --endpoint NAME=URL adds one.
Result<std::vector<gateway::Endpoint>> WorkEndpoints(const QueueOptions& o) {
  std::vector<gateway::Endpoint> configured;
  if (!o.config.empty()) {
    Result<std::vector<gateway::Endpoint>> all =
        gateway::LoadEndpointsFile(o.config);
    if (!all.ok()) return all.error();
    configured = std::move(all).value();
  }
  std::vector<gateway::Endpoint> out;
  bool named = false;
  for (const std::string& flag : o.work_endpoints) {
    if (flag.find('=') != std::string::npos) {
      Result<gateway::Endpoint> e = gateway::ParseEndpointFlag(flag);
      if (!e.ok()) return e.error();
      out.push_back(std::move(e).value());
      continue;
    }
    named = true;
    Result<gateway::Endpoint> e = gateway::FindEndpoint(configured, flag);
    if (!e.ok()) return e.error().WithContext(o.config);
    out.push_back(std::move(e).value());
  }
  if (!named) {
    for (gateway::Endpoint& e : configured) out.push_back(std::move(e));
  }
  if (out.empty()) {
    return Error(ErrorCode::kInvalidInput,
                 "no endpoints: give --config FILE and/or --endpoint");
  }
  return out;
}

// Delivers until SIGTERM or SIGINT, then stops gracefully (the deliveries
// in flight finish; everything else stays queued).
int RunWork(const QueueOptions& o, gateway::DeliveryQueue* queue) {
  Result<std::vector<gateway::Endpoint>> endpoints = WorkEndpoints(o);
  if (!endpoints.ok()) return Fail("queue work", endpoints.error());
  Result<std::unique_ptr<gateway::AuditLog>> audit =
      OpenCommandAuditLog(o.audit_key_file, o.config, o.redis);
  if (!audit.ok()) return Fail("queue work", audit.error());
  if (*audit) {
    (*audit)->set_failure_hook([](const gateway::AuditRecord& r,
                                  const Error& e) {
      std::cerr << "genogate queue work: audit event not stored ("
                << gateway::AuditActionName(r.action) << ", submission "
                << r.submission_id << "): " << ErrorCodeName(e.code()) << "\n";
    });
  } else {
    std::cerr << "genogate queue work: deliveries are not audited (give "
                 "--audit-key-file, or security.audit in --config)\n";
  }
  // Block the signals before any thread starts, so that only sigwait below
  // receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  gateway::DeliveryServiceOptions dso;
  dso.audit = audit->get();
  dso.software = std::string("genogate ") + GENOGATE_VERSION;
  Result<std::unique_ptr<gateway::DeliveryService>> service =
      gateway::DeliveryService::Create(*endpoints, queue, dso);
  if (!service.ok()) return Fail("queue work", service.error());
  (*service)->Start();
  for (const gateway::Endpoint& e : *endpoints) {
    std::cerr << "genogate queue work: delivering to " << e.name << " ("
              << e.concurrency << (e.concurrency == 1 ? " worker" : " workers")
              << ")\n";
  }
  int sig = 0;
  sigwait(&set, &sig);
  std::cerr << "genogate queue work: stopping (finishing deliveries in "
               "flight)\n";
  (*service)->Stop();
  std::cerr << "endpoint\tdelivered\tretried\tdead_lettered\tcircuit\n";
  for (const auto& st : (*service)->Stats()) {
    std::cerr << st.endpoint << "\t" << st.delivered << "\t" << st.retried
              << "\t" << st.dead_lettered << "\t"
              << gateway::CircuitStateName(st.circuit) << "\n";
  }
  return 0;
}

int RunQueue(const QueueOptions& o) {
  Result<std::unique_ptr<gateway::RedisQueue>> q = Open(o);
  // A worker started while Redis is down (or restarting) waits for it.
  for (bool told = false; o.work->parsed() && !q.ok() &&
                          q.error().code() == ErrorCode::kUnavailable;) {
    if (!told) {
      std::cerr << "genogate queue work: waiting for Redis: "
                << q.error().message() << "\n";
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    q = Open(o);
  }
  if (!q.ok()) return Fail("queue", q.error());
  gateway::RedisQueue& queue = **q;
  if (o.work->parsed()) return RunWork(o, &queue);
  if (o.stats->parsed()) {
    std::vector<gateway::QueueStats> all;
    if (o.endpoint.empty()) {
      Result<std::vector<gateway::QueueStats>> r = queue.AllStats();
      if (!r.ok()) return Fail("queue stats", r.error());
      all = std::move(r).value();
    } else {
      Result<gateway::QueueStats> r = queue.Stats(o.endpoint);
      if (!r.ok()) return Fail("queue stats", r.error());
      all.push_back(*r);
    }
    std::cout << "endpoint\tready\tin_flight\tdelayed\tdead\n";
    for (const auto& s : all) {
      std::cout << s.endpoint << "\t" << s.ready << "\t" << s.in_flight << "\t"
                << s.delayed << "\t" << s.dead << "\n";
    }
    return 0;
  }
  if (o.dead->parsed()) {
    Result<std::vector<gateway::DeadLetter>> r =
        queue.ListDead(o.endpoint, o.offset, o.limit);
    if (!r.ok()) return Fail("queue dead", r.error());
    std::cout << "id\ttime\tattempts\treason\n";
    for (const auto& d : *r) {
      std::cout << d.id << "\t" << Iso(d.time) << "\t" << d.attempts << "\t"
                << d.reason << "\n";
    }
    return 0;
  }
  bool replay = o.replay->parsed();
  int rc = 0;
  for (const std::string& id : o.ids) {
    Status s = replay ? queue.Replay(id) : queue.Discard(id);
    if (!s.ok()) {
      std::cerr << "genogate queue: " << id << ": " << s.error().message()
                << "\n";
      rc = 2;
    } else {
      std::cout << (replay ? "replayed " : "discarded ") << id << "\n";
    }
  }
  return rc;
}

}  // namespace

Command RegisterQueue(CLI::App& app) {
  auto o = std::make_shared<QueueOptions>();
  CLI::App* cmd = app.add_subcommand(
      "queue", "Inspect and repair the Redis delivery queue");
  cmd->require_subcommand(1);
  cmd->add_option("--redis", o->redis, "redis://[user:password@]host:port/db")
      ->capture_default_str();
  cmd->add_option("--key-file", o->key_file,
                  "Key ring file (payloads are encrypted at rest)")
      ->required();
  cmd->add_option("--prefix", o->prefix, "Key prefix")->capture_default_str();
  o->stats = cmd->add_subcommand("stats", "Queue depth per endpoint");
  o->stats->add_option("ENDPOINT", o->endpoint, "Only this endpoint");
  o->dead = cmd->add_subcommand("dead", "List an endpoint's dead letters");
  o->dead->add_option("ENDPOINT", o->endpoint)->required();
  o->dead->add_option("--offset", o->offset)->capture_default_str();
  o->dead->add_option("--limit", o->limit)->capture_default_str();
  o->replay = cmd->add_subcommand(
      "replay", "Put dead letters back into their queue (attempts reset)");
  o->replay->add_option("ID", o->ids, "Dead-letter id ENDPOINT/JOB")
      ->required();
  o->discard = cmd->add_subcommand("discard", "Delete dead letters' payloads");
  o->discard->add_option("ID", o->ids, "Dead-letter id ENDPOINT/JOB")
      ->required();
  o->work = cmd->add_subcommand(
      "work",
      "Deliver queued results until SIGTERM/SIGINT (a delivery-only process; "
      "run several for more throughput). On a signal the deliveries in "
      "flight finish and the rest stays queued");
  o->work->add_option("--config", o->config,
                      "YAML configuration with the endpoints");
  o->work->add_option("--endpoint", o->work_endpoints,
                      "Deliver only to this endpoint of --config (repeatable), "
                      "or NAME=URL for an endpoint without a config file");
  o->work
      ->add_option("--reclaim-after-ms", o->reclaim_after_ms,
                   "Take over a job another worker claimed and has not "
                   "finished after this long (keep it above the endpoint's "
                   "timeout_ms)")
      ->check(CLI::Range(int64_t{1000}, int64_t{24} * 3'600'000))
      ->capture_default_str();
  o->work->add_option(
      "--audit-key-file", o->audit_key_file,
      "Audit pseudonym key (the server's, e.g. DATA_DIR/audit-pseudonym.key): "
      "each delivery is recorded in the audit stream of --redis; default: "
      "security.audit of --config");
  return {cmd, [o] { return RunQueue(*o); }};
}

}  // namespace genogate::cli
