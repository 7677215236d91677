// `genogate serve` as an operator runs it: the built binary with an
// embedded redis-server, answering /healthz and /readyz, and stopping
// cleanly (with its redis-server) on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway/http/test_peers.h"
#include "gateway/server/tls_probe.h"
#include "testing/test_env.h"

extern char** environ;

namespace genogate::cli {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The integer after "\"key\":" in the first log line with `event`.
int LogInt(const std::string& logs, const std::string& event,
           const std::string& key) {
  size_t at = logs.find("\"event\":\"" + event + "\"");
  if (at == std::string::npos) return -1;
  size_t k = logs.find("\"" + key + "\":", at);
  size_t eol = logs.find('\n', at);
  if (k == std::string::npos || k > eol) return -1;
  return std::atoi(logs.c_str() + k + key.size() + 3);
}

std::string Get(int port, const std::string& path) {
  int fd = gateway::testing::ConnectLoopback(port);
  if (fd < 0) return "";
  gateway::testing::WriteAll(
      fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Sends one request; the raw answer (status line, headers, body).
std::string Send(int port, const std::string& method, const std::string& path,
                 const std::string& content_type = "",
                 const std::string& body = "") {
  int fd = gateway::testing::ConnectLoopback(port);
  if (fd < 0) return "";
  std::string head =
      method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!content_type.empty()) head += "Content-Type: " + content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  gateway::testing::WriteAll(fd, head + body);
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// The value of header `name` (exact case) in a raw answer, or "".
std::string Header(const std::string& answer, const std::string& name) {
  size_t at = answer.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return answer.substr(at, answer.find("\r\n", at) - at);
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-serve-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // Starts genogate with `args`; stderr (the JSON log) to dir_/log.
  void Spawn(std::vector<std::string> args) {
    args.insert(args.begin(), genogate::testing::BinaryDir() + "/genogate");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, (dir_ + "/out").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, (dir_ + "/log").c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ),
              0);
    posix_spawn_file_actions_destroy(&fa);
  }

  // Waits for the process to exit; its exit code (-1 on timeout/signal).
  int Wait(int timeout_ms = 30000) {
    for (int i = 0; i < timeout_ms / 10; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  std::string Logs() { return ReadAll(dir_ + "/log"); }

  // The HTTP port from the "serve.listening" log line (-1 if none came).
  int WaitForPort() {
    int port = -1;
    for (int i = 0; i < 6000 && port <= 0; ++i) {
      port = LogInt(Logs(), "serve.listening", "port");
      if (port <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return port;
  }

  std::string dir_;
  pid_t pid_ = -1;
};

TEST_F(ServeTest, ServesHealthAndStopsOnSigterm) {
  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data"});
  int port = -1;
  for (int i = 0; i < 3000 && port <= 0; ++i) {
    port = LogInt(Logs(), "serve.listening", "port");
    if (port <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(port, 0) << Logs();
  std::string health = Get(port, "/healthz");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  EXPECT_NE(health.find("{\"status\":\"alive\"}"), std::string::npos);
  std::string ready = Get(port, "/readyz");
  EXPECT_EQ(ready.rfind("HTTP/1.1 200", 0), 0u) << ready;
  EXPECT_NE(ready.find("\"redis\":\"ok\""), std::string::npos);
  EXPECT_NE(Get(port, "/metrics").find("genogate_http_requests_total"),
            std::string::npos);
  int redis_pid = LogInt(Logs(), "redis.started", "pid");
  ASSERT_GT(redis_pid, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/redis/appendonlydir"));

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
  std::string logs = Logs();
  EXPECT_NE(logs.find("\"event\":\"serve.stopping\",\"signal\":\"SIGTERM\""),
            std::string::npos);
  EXPECT_NE(logs.find("\"event\":\"serve.stopped\""), std::string::npos);
  EXPECT_NE(::kill(redis_pid, 0), 0);  // the embedded redis-server is gone
  EXPECT_TRUE(Get(port, "/healthz").empty());
}

TEST_F(ServeTest, RefusesAnUnauthenticatedNonLoopbackAddress) {
  Spawn({"serve", "--listen", "0.0.0.0:0", "--data-dir", dir_ + "/data"});
  EXPECT_EQ(Wait(), 2);
  std::string logs = Logs();
  EXPECT_NE(logs.find("refusing to listen on 0.0.0.0"), std::string::npos)
      << logs;
  EXPECT_NE(logs.find("'security:'"), std::string::npos);
  EXPECT_NE(logs.find("genogate keys api-key"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data"));
}

TEST_F(ServeTest, RefusesMllpOnANonLoopbackAddressWithoutClientCerts) {
  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data",
         "--mllp-listen", "0.0.0.0:0"});
  EXPECT_EQ(Wait(), 2);
  std::string logs = Logs();
  EXPECT_NE(logs.find("refusing MLLP on 0.0.0.0"), std::string::npos) << logs;
  EXPECT_NE(logs.find("client_ca_file"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data"));
}

TEST_F(ServeTest, ConfigErrorsExit2WithFileAndLine) {
  std::ofstream(dir_ + "/gw.yaml") << "server:\n  listen: 127.0.0.1:0\n"
                                      "  limits:\n    max_connections: lots\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("gw.yaml:4: server.limits.max_connections: expected a "
                        "whole number"),
            std::string::npos)
      << Logs();
}

// The whole path through the wired services: POST /submissions maps and
// validates the VCF, queues it on the embedded Redis, the delivery workers
// write the Bundle to the file outbox, and GET Location reports it
// delivered. The patient identifier (PHI) reaches the outbox but never the
// logs.
TEST_F(ServeTest, SubmitsVcfAndDeliversToFileOutbox) {
  const std::string outbox = dir_ + "/outbox";
  std::filesystem::create_directories(outbox);
  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data",
         "--endpoint", "outbox=file://" + outbox});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  const std::string patient_value = "ZQ7731PHIMARKER";
  std::string vcf = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf");
  ASSERT_FALSE(vcf.empty());
  std::string posted =
      Send(port, "POST",
           "/submissions?patient=urn:oid:1.2.3%7C" + patient_value +
               "&accession=urn:oid:1.2.4%7CACC-1&lab=lab-1",
           "text/x-vcf", vcf);
  ASSERT_EQ(posted.rfind("HTTP/1.1 202", 0), 0u) << posted.substr(0, 2000);
  std::string location = Header(posted, "Location");
  ASSERT_EQ(location.rfind("/submissions/", 0), 0u) << posted.substr(0, 500);
  std::string id = location.substr(std::string("/submissions/").size());

  std::string status;
  for (int i = 0; i < 3000; ++i) {
    status = Send(port, "GET", location);
    if (status.find("\"state\":\"delivered\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(status.find("\"endpoint\":\"outbox\",\"jobId\":\"" + id +
                        "\",\"state\":\"delivered\""),
            std::string::npos)
      << status;
  std::string bundle = ReadAll(outbox + "/" + id + ".json");
  EXPECT_NE(bundle.find("\"resourceType\":\"DiagnosticReport\""),
            std::string::npos);
  EXPECT_NE(bundle.find(patient_value), std::string::npos);

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
  std::string logs = Logs() + ReadAll(dir_ + "/out");
  EXPECT_NE(logs.find("\"event\":\"serve.stopped\""), std::string::npos);
  EXPECT_EQ(logs.find(patient_value), std::string::npos);
}

// The body of a raw answer.
std::string Body(const std::string& answer) {
  size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

// The audit trail as serve wires it: a submission, its delivery (with a
// Provenance in the delivered bundle) and an admin request each leave one
// AuditEvent, readable over GET /audit; after a restart of serve (and of
// its embedded Redis) on the same data directory the same events are still
// there and new ones follow. No patient identifier in clear.
TEST_F(ServeTest, AuditTrailSurvivesARestartAndProvenanceIsDelivered) {
  const std::string outbox = dir_ + "/outbox";
  std::filesystem::create_directories(outbox);
  const std::vector<std::string> args = {"serve",
                                         "--listen",
                                         "127.0.0.1:0",
                                         "--data-dir",
                                         dir_ + "/data",
                                         "--endpoint",
                                         "outbox=file://" + outbox};
  Spawn(args);
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  const std::string patient_value = "ZQ7731AUDITMARKER";
  std::string vcf = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf");
  std::string posted =
      Send(port, "POST",
           "/submissions?patient=urn:oid:1.2.3%7C" + patient_value +
               "&accession=urn:oid:1.2.4%7CACC-AUDIT&lab=lab-1",
           "text/x-vcf", vcf);
  ASSERT_EQ(posted.rfind("HTTP/1.1 202", 0), 0u) << posted.substr(0, 2000);
  std::string location = Header(posted, "Location");
  std::string id = location.substr(std::string("/submissions/").size());
  std::string status;
  for (int i = 0; i < 3000; ++i) {
    status = Send(port, "GET", location);
    if (status.find("\"state\":\"delivered\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(status.find("\"state\":\"delivered\""), std::string::npos)
      << status;
  std::string bundle = ReadAll(outbox + "/" + id + ".json");
  EXPECT_NE(bundle.find("\"resourceType\":\"Provenance\""), std::string::npos);
  EXPECT_NE(bundle.find("\"system\":\"urn:genogate:lab\",\"value\":"
                        "\"lab-1\""),
            std::string::npos);
  EXPECT_EQ(Send(port, "GET", "/admin/queues").rfind("HTTP/1.1 200", 0), 0u);

  // The delivery event is written just before the job is marked delivered.
  std::string audit = Send(port, "GET", "/audit");
  ASSERT_EQ(audit.rfind("HTTP/1.1 200", 0), 0u) << audit.substr(0, 500);
  EXPECT_EQ(Header(audit, "Content-Type"), "application/fhir+ndjson");
  const std::string before = Body(audit);
  auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos;
         at = text.find(what, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count(before, "\n"), 3u) << before;
  EXPECT_EQ(
      count(before, "\"urn:genogate:audit-action\",\"code\":\"submission\""),
      1u)
      << before;
  EXPECT_EQ(
      count(before, "\"urn:genogate:audit-action\",\"code\":\"delivery\""), 1u)
      << before;
  EXPECT_EQ(count(before, "\"urn:genogate:audit-action\",\"code\":\"admin\""),
            1u)
      << before;
  EXPECT_EQ(count(before, "\"value\":\"" + id + "\""), 2u) << before;
  EXPECT_EQ(before.find(patient_value), std::string::npos);
  EXPECT_NE(Send(port, "GET", "/metrics")
                .find("genogate_audit_write_failures_total 0"),
            std::string::npos);

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  ASSERT_EQ(Wait(), 0) << Logs();
  Spawn(args);
  port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  std::string broken = vcf;
  broken.replace(broken.find("\t117559590\t"), 11, "\t12x45\t");
  std::string invalid = Send(port, "POST",
                             "/submissions?patient=urn:oid:1.2.3%7C" +
                                 patient_value + "&accession=urn:oid:1.2.4%7CX",
                             "text/x-vcf", broken);
  EXPECT_EQ(invalid.rfind("HTTP/1.1 422", 0), 0u) << invalid.substr(0, 500);
  std::string after = Body(Send(port, "GET", "/audit"));
  EXPECT_EQ(after.substr(0, before.size()), before);
  EXPECT_EQ(count(after, "\n"), 4u) << after;
  EXPECT_NE(
      after.rfind(
          "\"urn:genogate:audit-action\",\"code\":\"validation-failure\""),
      std::string::npos);
  EXPECT_GT(
      after.rfind(
          "\"urn:genogate:audit-action\",\"code\":\"validation-failure\""),
      before.size());
  EXPECT_EQ(after.find(patient_value), std::string::npos);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
  EXPECT_EQ((Logs() + ReadAll(dir_ + "/out")).find(patient_value),
            std::string::npos);
}

TEST_F(ServeTest, AnswersMetadataAndRejectsAnInvalidVcfWithItsLine) {
  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data",
         "--endpoint", "outbox=file://" + dir_ + "/outbox"});
  std::filesystem::create_directories(dir_ + "/outbox");
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  std::string metadata = Send(port, "GET", "/fhir/metadata");
  EXPECT_EQ(metadata.rfind("HTTP/1.1 200", 0), 0u) << metadata;
  EXPECT_NE(metadata.find("\"resourceType\":\"CapabilityStatement\""),
            std::string::npos);
  std::string ready = Send(port, "GET", "/readyz");
  EXPECT_NE(ready.find("\"definitions\":\"ok\""), std::string::npos) << ready;

  std::string vcf = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf");
  size_t pos = vcf.find("\t117559590\t");
  ASSERT_NE(pos, std::string::npos);
  vcf.replace(pos, 11, "\t12x45\t");
  std::string answer = Send(port, "POST",
                            "/submissions?patient=urn:oid:1.2.3%7CP-1"
                            "&accession=urn:oid:1.2.4%7CACC-2&lab=lab-1",
                            "text/x-vcf", vcf);
  EXPECT_EQ(answer.rfind("HTTP/1.1 422", 0), 0u) << answer.substr(0, 500);
  EXPECT_NE(answer.find("\"resourceType\":\"OperationOutcome\""),
            std::string::npos);
  EXPECT_NE(answer.find("line 13, column 2 (POS)"), std::string::npos)
      << answer.substr(0, 2000);
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/outbox"));
}

// The chart's rendered config has queue:, security: and mllp: sections.
TEST_F(ServeTest, StartsFromAConfigWithQueueSecurityAndMllpSections) {
  std::filesystem::create_directories(dir_ + "/outbox");
  std::ofstream(dir_ + "/gw.yaml")
      << "server:\n  listen: 127.0.0.1:0\n  data_dir: data\n"
         "queue:\n  key_file: queue.key\n"
         "security: {}\n"
         "mllp:\n  listen: 127.0.0.1:0\n"
         "endpoints:\n  - name: outbox\n    url: file://"
      << dir_ << "/outbox\n";
  {
    int fd = ::open((dir_ + "/queue.key").c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    std::string key =
        "k1 = hex:000102030405060708090a0b0c0d0e0f"
        "101112131415161718191a1b1c1d1e1f\n";
    ASSERT_EQ(::write(fd, key.data(), key.size()),
              static_cast<ssize_t>(key.size()));
    ::close(fd);
  }
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  EXPECT_GT(LogInt(Logs(), "serve.mllp_listening", "port"), 0) << Logs();
  EXPECT_EQ(Logs().find("serve.queue_key_created"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/queue.key"));
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
}

// --check-config checks every section and the start-up rules, lists the
// files and variables the config names, and starts nothing.
TEST_F(ServeTest, CheckConfigChecksEverySectionAndStartsNothing) {
  std::ofstream(dir_ + "/gw.yaml")
      << "server:\n  listen: 0.0.0.0:0\n  data_dir: data\n"
         "redis:\n  url: redis://127.0.0.1:1/0\n"
         "  password_env: GW_TEST_REDIS_PASSWORD\n"
         "queue:\n  key_file: queue.keys\n  reclaim_idle_ms: 5000\n"
         "security:\n  api_keys_file: auth/api-keys.yaml\n"
         "endpoints:\n  - name: ehr\n    url: https://ehr.example.org/fhir\n"
         "    auth: {type: bearer, token_file: ehr.token}\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml", "--check-config"});
  EXPECT_EQ(Wait(), 0) << Logs();
  std::string out = ReadAll(dir_ + "/out");
  EXPECT_EQ(out.rfind("ok " + dir_ + "/gw.yaml\n", 0), 0u) << out;
  for (const char* f : {"queue.keys", "auth/api-keys.yaml", "ehr.token"}) {
    EXPECT_NE(out.find("\nfile " + dir_ + "/" + f + "\n"), std::string::npos)
        << f << "\n"
        << out;
  }
  EXPECT_NE(out.find("\nenv GW_TEST_REDIS_PASSWORD\n"), std::string::npos);
  // ehr's default timeouts (10 s connect, 60 s read, 60 s write) outlast
  // the 5 s reclaim time.
  EXPECT_NE(out.find("warning endpoint ehr: one delivery attempt may take up "
                     "to 130000 ms"),
            std::string::npos)
      << out;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data"));

  // Without the API-key file nothing authenticates callers on 0.0.0.0.
  std::ofstream(dir_ + "/open.yaml")
      << "server:\n  listen: 0.0.0.0:0\n  data_dir: data\n";
  Spawn({"serve", "--config", dir_ + "/open.yaml", "--check-config"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("refusing to listen on 0.0.0.0"), std::string::npos)
      << Logs();
  std::ofstream(dir_ + "/bad.yaml")
      << "security:\n  api_keys_file: k.yaml\n  api_keys: 3\n";
  Spawn({"serve", "--config", dir_ + "/bad.yaml", "--check-config"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("bad.yaml:3: security.api_keys: expected a list"),
            std::string::npos)
      << Logs();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data"));
}

// The MLLP listener as the config file sets it up: TLS from mllp.tls, the
// size limit from mllp.max_message_bytes. An ORU^R01 over TLS is accepted
// (AA), one over the limit is refused (AR, ERR 104 naming the limit), and
// after the certificate files are replaced SIGHUP makes new connections
// get the new certificate.
TEST_F(ServeTest, MllpOverTlsFromTheConfig) {
  ASSERT_TRUE(gateway::testing::MakeServerCert(dir_, "mllp-a"));
  ASSERT_TRUE(gateway::testing::MakeServerCert(dir_, "mllp-b"));
  std::filesystem::copy_file(dir_ + "/mllp-a.pem", dir_ + "/live.pem");
  std::filesystem::copy_file(dir_ + "/mllp-a.key", dir_ + "/live.key");
  std::filesystem::create_directories(dir_ + "/outbox");
  std::ofstream(dir_ + "/gw.yaml")
      << "server:\n  listen: 127.0.0.1:0\n  data_dir: data\n"
         "mllp:\n  listen: 127.0.0.1:0\n"
         "  tls:\n    cert_file: live.pem\n    key_file: live.key\n"
         "    min_version: \"1.2\"\n"
         "  max_message_bytes: 65536\n  max_connections: 8\n"
         "  idle_timeout_ms: 60000\n  read_timeout_ms: 20000\n"
         "  write_timeout_ms: 20000\n"
         "endpoints:\n  - name: outbox\n    url: file://"
      << dir_ << "/outbox\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  ASSERT_GT(WaitForPort(), 0) << Logs();
  int mllp = LogInt(Logs(), "serve.mllp_listening", "port");
  ASSERT_GT(mllp, 0) << Logs();
  EXPECT_EQ(LogInt(Logs(), "serve.mllp_listening", "max_message_bytes"), 65536);
  EXPECT_NE(
      Logs().find("\"event\":\"serve.mllp_listening\",\"host\":\"127.0.0.1"
                  "\",\"port\":" +
                  std::to_string(mllp) + ",\"tls\":true"),
      std::string::npos)
      << Logs();

  gateway::testing::TlsProbe::Options trusting;
  trusting.ca_file = dir_ + "/ca.pem";
  auto send = [](gateway::testing::TlsProbe& c, const std::string& message) {
    c.Write("\x0b" + message + "\x1c\r");
    return c.ReadUntil("\x1c\r");
  };
  const std::string oru = genogate::testing::ReadTestFile(
      genogate::testing::DataDir() + "/hl7v2/brca1_germline_two_variants.hl7");
  ASSERT_FALSE(oru.empty());
  {
    gateway::testing::TlsProbe c(mllp, trusting);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c.server_cn(), "mllp-a");
    std::string ack = send(c, oru);
    EXPECT_NE(ack.find("MSA|AA|MSG00001"), std::string::npos) << ack;

    // Over mllp.max_message_bytes: AR with ERR 104 naming the limit, and
    // the connection goes on.
    std::string big = oru;
    big.insert(big.find("OBX|"),
               "NTE|1|L|" + std::string(70 * 1024, 'x') + "\r");
    ack = send(c, big);
    EXPECT_NE(ack.find("MSA|AR|"), std::string::npos) << ack;
    EXPECT_NE(ack.find("ERR|||104^Value too long^HL70357|E"), std::string::npos)
        << ack;
    EXPECT_NE(ack.find("65536"), std::string::npos) << ack;
  }
  // Plain TCP on the TLS port gets no ACK.
  {
    int fd = gateway::testing::ConnectLoopback(mllp);
    ASSERT_GE(fd, 0);
    gateway::testing::WriteAll(fd, "\x0b" + oru + "\x1c\r");
    char buf[256];
    pollfd p{fd, POLLIN, 0};
    ssize_t n = ::poll(&p, 1, 20000) > 0 ? ::recv(fd, buf, sizeof(buf), 0) : 0;
    EXPECT_LE(n, 0);
    ::close(fd);
  }

  // Certificate rotation: new files, SIGHUP, new connections see them.
  std::filesystem::copy_file(dir_ + "/mllp-b.pem", dir_ + "/live.pem",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir_ + "/mllp-b.key", dir_ + "/live.key",
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  std::string cn;
  for (int i = 0; i < 2000 && cn != "mllp-b"; ++i) {
    gateway::testing::TlsProbe c(mllp, trusting);
    ASSERT_TRUE(c.ok()) << c.error();
    cn = c.server_cn();
    if (cn != "mllp-b")
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(cn, "mllp-b") << Logs();
  EXPECT_NE(Logs().find("\"event\":\"serve.reload\",\"signal\":\"SIGHUP\""),
            std::string::npos)
      << Logs();
  EXPECT_NE(Logs().find("TLS certificate reloaded: subject CN=mllp-b"),
            std::string::npos)
      << Logs();

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
}

// queue.high_water_mark from the config file: with a mark of 0, once a job
// waits for an EHR that cannot be reached, POST /submissions answers 503 +
// Retry-After with an OperationOutcome. /metrics shows the queue, the
// deliveries and the submissions.
TEST_F(ServeTest, AboveTheConfiguredHighWaterMarkSubmissionsGet503) {
  std::ofstream(dir_ + "/gw.yaml")
      << "server:\n  listen: 127.0.0.1:0\n  data_dir: data\n"
         "  limits: {retry_after_seconds: 3}\n"
         "queue:\n  high_water_mark: 0\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml", "--endpoint",
         "parked=http://127.0.0.1:1/fhir"});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  std::string vcf = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf");
  const std::string target =
      "/submissions?patient=urn:oid:1.2.3%7CP-9&accession=urn:oid:1.2.4%7CACC-9"
      "&lab=lab-1";
  std::string answer = Send(port, "POST", target, "text/x-vcf", vcf);
  ASSERT_EQ(answer.rfind("HTTP/1.1 202", 0), 0u) << answer.substr(0, 500);
  // The monitor polls the queue every second; the job waits for its retry.
  for (int i = 0; i < 300; ++i) {
    answer = Send(port, "POST", target, "text/x-vcf", vcf);
    if (answer.rfind("HTTP/1.1 503", 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer.substr(0, 500);
  EXPECT_EQ(Header(answer, "Retry-After"), "3");
  EXPECT_NE(answer.find("\"resourceType\":\"OperationOutcome\""),
            std::string::npos);
  EXPECT_NE(answer.find("\"code\":\"transient\""), std::string::npos);
  EXPECT_EQ(Send(port, "GET", "/fhir/metadata").rfind("HTTP/1.1 200", 0), 0u);

  std::string metrics = Send(port, "GET", "/metrics");
  for (const char* series :
       {"genogate_queue_jobs{endpoint=\"parked\",state=\"delayed\"} ",
        "genogate_deliveries_total{endpoint=\"parked\",outcome=\"retried\"} ",
        "genogate_submissions_total{format=\"vcf\",outcome=\"accepted\"} ",
        "genogate_http_refused_total{reason=\"overloaded\"} ",
        "genogate_queue_up 1"}) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series << metrics;
  }
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
}

// A bad mllp: value stops start-up naming file, line and key.
TEST_F(ServeTest, BadMllpConfigStopsStartUp) {
  std::ofstream(dir_ + "/gw.yaml")
      << "server:\n  listen: 127.0.0.1:0\n  data_dir: data\n"
         "mllp:\n  listen: 127.0.0.1:0\n  max_message_bytes: 10MB\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("gw.yaml:6: mllp.max_message_bytes: expected a whole "
                        "number"),
            std::string::npos)
      << Logs();
  // TLS files that cannot be loaded: refused at start-up, naming the file.
  std::ofstream(dir_ + "/gw.yaml")
      << "server:\n  listen: 127.0.0.1:0\n  data_dir: data\n"
         "mllp:\n  listen: 127.0.0.1:0\n  tls:\n    cert_file: none.pem\n"
         "    key_file: none.key\n";
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("mllp.tls"), std::string::npos) << Logs();
  EXPECT_NE(Logs().find(dir_ + "/none.pem"), std::string::npos) << Logs();
}

// Against the HAPI test EHR (GENOGATE_TEST_EHR_URL, scripts/e2e-ehr.sh):
// serve delivers the VCF's transaction Bundle and the DiagnosticReport is
// found there by its accession identifier.
class EhrServeTest : public ServeTest {
 protected:
  void SetUp() override {
    const char* url = std::getenv("GENOGATE_TEST_EHR_URL");
    if (url == nullptr) {
      GTEST_SKIP() << "GENOGATE_TEST_EHR_URL is not set (run through "
                      "scripts/e2e-ehr.sh)";
    }
    url_ = url;
    ServeTest::SetUp();
  }
  std::string url_;
};

TEST_F(EhrServeTest, EhrServeDeliversVcfReportToTheEhr) {
  // "http://127.0.0.1:PORT/fhir"
  size_t colon = url_.rfind(':');
  ASSERT_NE(colon, std::string::npos);
  int ehr_port = std::atoi(url_.c_str() + colon + 1);
  std::string ehr_path = url_.substr(url_.find('/', colon));
  ASSERT_GT(ehr_port, 0);

  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data",
         "--endpoint", "hapi=" + url_});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  const std::string accession =
      "SRV-" + std::to_string(
                   std::chrono::system_clock::now().time_since_epoch().count());
  std::string vcf = genogate::testing::ReadTestFile(
      genogate::testing::SourceDir() + "/examples/panel-grch38-vep.vcf");
  std::string posted = Send(port, "POST",
                            "/submissions?patient=urn:oid:1.2.3%7CEHR-P-1"
                            "&accession=urn:oid:1.2.4%7C" +
                                accession + "&lab=lab-1",
                            "text/x-vcf", vcf);
  ASSERT_EQ(posted.rfind("HTTP/1.1 202", 0), 0u) << posted.substr(0, 2000);
  std::string location = Header(posted, "Location");
  ASSERT_FALSE(location.empty());
  std::string status;
  for (int i = 0; i < 1800; ++i) {  // HAPI's first transaction is slow
    status = Send(port, "GET", location);
    if (status.find("\"state\":\"delivered\"") != std::string::npos ||
        status.find("\"state\":\"dead-lettered\"") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(status.find("\"state\":\"delivered\""), std::string::npos)
      << status;
  std::string found = Send(
      ehr_port, "GET",
      ehr_path + "/DiagnosticReport?identifier=urn:oid:1.2.4%7C" + accession);
  EXPECT_EQ(found.rfind("HTTP/1.1 200", 0), 0u) << found.substr(0, 500);
  EXPECT_NE(found.find("\"total\":1"), std::string::npos)
      << found.substr(0, 2000);
  EXPECT_NE(found.find("\"value\":\"" + accession + "\""), std::string::npos);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
}

}  // namespace
}  // namespace genogate::cli
