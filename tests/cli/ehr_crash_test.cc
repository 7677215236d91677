// The crash test of issue 6: 200 submissions are enqueued to a real Redis
// (appendfsync always) and delivered to the HAPI test EHR by two
// `genogate queue work` processes, while
//   * the worker processes are SIGKILLed at random moments and restarted,
//   * the EHR is stopped and started again once (scripts/hapi.sh; the
//     e2e script runs it with a persistent H2 database), and
//   * redis-server is SIGKILLed once and restarted from its AOF.
// At the end the EHR holds exactly the 200 reports (and their patients),
// none twice, and the queue is empty with every job delivered.
//
// Needs GENOGATE_TEST_EHR_URL and GENOGATE_TEST_EHR_DIR (set by
// scripts/e2e-ehr.sh); skipped otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "base/file.h"
#include "gateway/delivery/target.h"
#include "gateway/queue/queue_test_util.h"
#include "testing/redis_server.h"
#include "testing/test_env.h"

extern char** environ;

namespace genogate::cli {
namespace {

using namespace std::chrono_literals;

constexpr int kSubmissions = 200;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// One small transaction, shaped as genogate's bundles are: the Patient a
// conditional create, its DiagnosticReport a conditional update, both on
// their identifiers.
std::string Bundle(const std::string& system, int i) {
  std::string n = std::to_string(i);
  return R"({"resourceType":"Bundle","type":"transaction","entry":[
{"fullUrl":"urn:uuid:00000000-0000-4000-8000-)" +
         std::string(12 - n.size(), '0') + n + R"(",
 "resource":{"resourceType":"Patient","identifier":[{"system":")" +
         system + R"(","value":"patient-)" + n + R"("}]},
 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=)" +
         system + "|patient-" + n + R"("}},
{"fullUrl":"urn:uuid:10000000-0000-4000-8000-)" +
         std::string(12 - n.size(), '0') + n + R"(",
 "resource":{"resourceType":"DiagnosticReport","identifier":[{"system":")" +
         system + R"(","value":"report-)" + n + R"("}],"status":"final",
  "code":{"coding":[{"system":"http://loinc.org","code":"51969-4"}]},
  "subject":{"reference":"urn:uuid:00000000-0000-4000-8000-)" +
         std::string(12 - n.size(), '0') + n + R"("},
  "conclusion":"crash test report )" +
         n + R"("},
 "request":{"method":"PUT","url":"DiagnosticReport?identifier=)" +
         system + "|report-" + n + R"("}}]})";
}

// A `genogate queue work` process, restartable.
class Worker {
 public:
  Worker(std::vector<std::string> args, std::string log)
      : args_(std::move(args)), log_(std::move(log)) {}
  ~Worker() { Kill(); }
  bool Start() {
    std::vector<char*> argv;
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM and the exit status (-1 if it did not exit normally).
  int Terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Restarts a process that exited by itself (it should not).
  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

 private:
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

TEST(EhrCrashTest, EhrKilledWorkersEhrAndRedisRestartsDeliverEachReportOnce) {
  const std::string ehr = Env("GENOGATE_TEST_EHR_URL");
  const std::string ehr_dir = Env("GENOGATE_TEST_EHR_DIR");
  if (ehr.empty() || ehr_dir.empty()) {
    GTEST_SKIP() << "needs GENOGATE_TEST_EHR_URL and GENOGATE_TEST_EHR_DIR "
                    "(run through scripts/e2e-ehr.sh)";
  }
  const std::string ehr_port = ehr.substr(
      ehr.rfind(':') + 1, ehr.find('/', ehr.rfind(':')) - ehr.rfind(':') - 1);
  genogate::testing::RedisServer::Options ro;
  ro.appendfsync = "always";
  auto redis = genogate::testing::RedisServer::Start(ro);
  ASSERT_NE(redis, nullptr);
  const std::string dir = redis->dir();
  const std::string keys = dir + "/keys";
  ASSERT_TRUE(WriteFileAtomic(
                  keys,
                  "active = test-2026\ntest-2026 = "
                  "hex:8f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aab"
                  "bccddeeff\n")
                  .ok());
  ::chmod(keys.c_str(), 0600);
  // Timeouts below the reclaim time, so that a job is only taken over from
  // a worker that is gone; short back-off and breaker pauses to fit CI.
  const std::string config = dir + "/genogate.yaml";
  ASSERT_TRUE(WriteFileAtomic(config,
                              "endpoints:\n"
                              "  - name: hapi\n"
                              "    url: " +
                                  ehr +
                                  "\n"
                                  "    concurrency: 2\n"
                                  "    connect_timeout_ms: 2000\n"
                                  "    timeout_ms: 12000\n"
                                  "    max_attempts: 1000\n"
                                  "    backoff_base_ms: 250\n"
                                  "    backoff_cap_ms: 3000\n"
                                  "    circuit_failures: 4\n"
                                  "    circuit_cool_down_ms: 2000\n")
                  .ok());
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < 2; ++w) {
    workers.push_back(std::make_unique<Worker>(
        std::vector<std::string>{genogate::testing::BinaryDir() + "/genogate",
                                 "queue", "--redis", redis->url(), "--key-file",
                                 keys, "--prefix", "crash:", "work", "--config",
                                 config, "--reclaim-after-ms", "20000"},
        dir + "/worker" + std::to_string(w) + ".log"));
    ASSERT_TRUE(workers.back()->Start());
  }
  auto queue = gateway::testing::MakeRedisQueue(*redis, {}, nullptr, "crash:");
  ASSERT_NE(queue, nullptr);

  const std::string system =
      "urn:genogate:crash:" + std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch() / 1s);
  std::mt19937 rng(std::random_device{}());
  auto enqueue = [&](int i) {
    gateway::Job job;
    job.id = "sub-" + std::to_string(i);
    job.report_key = system + "|report-" + std::to_string(i);
    job.payload = Bundle(system, i);
    // Retried while Redis is down: the id makes a repeat a no-op.
    for (int attempt = 0; attempt < 600; ++attempt) {
      Result<gateway::EnqueueResult> r = queue->Enqueue("hapi", job);
      if (r.ok()) return true;
      EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable)
          << r.error().ToString();
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  const std::string hapi = genogate::testing::SourceDir() + "/scripts/hapi.sh";
  std::atomic<int> ehr_restart_rc{-1};
  std::thread ehr_restart;
  // Joined however the test ends (a failed ASSERT returns early).
  struct Joiner {
    std::thread* t;
    ~Joiner() {
      if (t->joinable()) t->join();
    }
  } joiner{&ehr_restart};
  int kills = 0;
  bool redis_restarted = false;
  for (int i = 0; i < kSubmissions; ++i) {
    ASSERT_TRUE(enqueue(i)) << i;
    if (i % 10 != 9) continue;
    // Every 10 submissions: a pause, then maybe a SIGKILL of a worker.
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(100, 1500)(rng)));
    if (std::uniform_int_distribution<int>(0, 2)(rng) != 0) {
      Worker& w = *workers[std::uniform_int_distribution<int>(0, 1)(rng)];
      w.Kill();
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<int>(0, 500)(rng)));
      ASSERT_TRUE(w.Start());
    }
    if (i == 59) {
      // The EHR goes down (and takes its time to come back) while
      // submissions keep arriving and workers keep being killed.
      ehr_restart = std::thread([&] {
        int rc = std::system(("'" + hapi + "' stop '" + ehr_dir +
                              "' >/dev/null 2>&1 && '" + hapi + "' start " +
                              ehr_port + " '" + ehr_dir + "' >/dev/null")
                                 .c_str());
        ehr_restart_rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
      });
      std::this_thread::sleep_for(3s);
    }
    if (i == 129) {
      redis->Kill();  // SIGKILL: no shutdown, no final fsync
      std::this_thread::sleep_for(1s);
      ASSERT_TRUE(redis->Restart());
      redis_restarted = true;
    }
  }
  if (ehr_restart.joinable()) ehr_restart.join();
  ASSERT_EQ(ehr_restart_rc, 0) << "scripts/hapi.sh could not restart the EHR";
  ASSERT_TRUE(redis_restarted);
  // Make sure at least two kills happened whatever the dice said.
  for (; kills < 2; ++kills) {
    workers[kills % 2]->Kill();
    ASSERT_TRUE(workers[kills % 2]->Start());
  }

  // Wait until every job is delivered (killed workers' claims are taken
  // over after --reclaim-after-ms).
  auto delivered = [&] {
    int n = 0;
    for (int i = 0; i < kSubmissions; ++i) {
      Result<gateway::JobStatus> s =
          queue->GetStatus("hapi", "sub-" + std::to_string(i));
      if (s.ok() && s->state == gateway::JobState::kDelivered) ++n;
    }
    return n;
  };
  int done = 0;
  for (int t = 0; t < 300 && (done = delivered()) < kSubmissions; ++t) {
    for (auto& w : workers) {
      if (!w->Alive()) {
        ASSERT_TRUE(w->Start());
      }
    }
    std::this_thread::sleep_for(1s);
  }
  EXPECT_EQ(done, kSubmissions);
  for (auto& w : workers) EXPECT_EQ(w->Terminate(), 0);  // graceful stop

  Result<gateway::QueueStats> qs = queue->Stats("hapi");
  ASSERT_TRUE(qs.ok()) << qs.error().ToString();
  EXPECT_EQ(qs->ready, 0);
  EXPECT_EQ(qs->in_flight, 0);
  EXPECT_EQ(qs->delayed, 0);
  EXPECT_EQ(qs->dead, 0);

  // The EHR: exactly one report and one patient per submission.
  Result<gateway::Endpoint> e = gateway::EndpointFromUrl(ehr);
  ASSERT_TRUE(e.ok());
  Result<std::unique_ptr<gateway::DeliveryTarget>> target =
      gateway::MakeTarget(*e);
  ASSERT_TRUE(target.ok());
  const gateway::FhirClient& client =
      static_cast<gateway::FhirTarget*>(target->get())->client();
  for (const char* type : {"DiagnosticReport", "Patient"}) {
    std::map<std::string, int> count;
    Status s =
        client.Search(type, "identifier=" + system + "|&_count=200",
                      [&](std::string_view json) {
                        rapidjson::Document d;
                        d.Parse(json.data(), json.size());
                        if (!d.HasParseError() && d.HasMember("identifier")) {
                          ++count[d["identifier"][0]["value"].GetString()];
                        }
                        return Status::Ok();
                      });
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    EXPECT_EQ(count.size(), static_cast<size_t>(kSubmissions)) << type;
    int twice = 0;
    for (const auto& [id, n] : count) twice += n > 1;
    EXPECT_EQ(twice, 0) << type << " held twice";
  }
  std::cerr << "crash test: " << kills << " worker SIGKILLs, 1 EHR restart, "
            << "1 Redis SIGKILL + restart from the AOF\n";
  if (::testing::Test::HasFailure()) {
    for (int w = 0; w < 2; ++w) {
      std::cerr << "---- worker" << w << ".log (tail)\n"
                << genogate::testing::ReadTestFile(dir + "/worker" +
                                                   std::to_string(w) + ".log")
                       .substr(0, 4000);
    }
  }
}

}  // namespace
}  // namespace genogate::cli
