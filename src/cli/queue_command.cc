// genogate queue stats|dead|replay|discard --redis URL --key-file FILE:
// operator commands over the Redis delivery queue.
//
// The queue is opened with Durability::kUnchecked: these commands inspect
// and repair jobs, they never accept new results from a lab, so they do not
// insist on the server's fsync policy (the gateway does).
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "gateway/queue/redis_queue.h"

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
  return gateway::RedisQueue::Create(
      ro, std::make_shared<const gateway::KeyRing>(std::move(keys).value()));
}

int RunQueue(const QueueOptions& o) {
  Result<std::unique_ptr<gateway::RedisQueue>> q = Open(o);
  if (!q.ok()) return Fail("queue", q.error());
  gateway::RedisQueue& queue = **q;
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
  return {cmd, [o] { return RunQueue(*o); }};
}

}  // namespace genogate::cli
