// Authentication and authorisation end to end: the built `genogate serve`
// with a `security:` section, called over real HTTP(S) by genogate's own
// HTTP client: API keys, bearer JWTs against a JWKS file, client
// certificates (mTLS), lab isolation, admin and auditor routes, and the
// open operations routes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gateway/http/http_client.h"
#include "gateway/http/test_peers.h"
#include "gateway/security/api_key.h"
#include "gateway/security/test_keys.h"
#include "testing/test_env.h"

extern char** environ;

namespace genogate::cli {
namespace {

using gateway::HttpClient;
using gateway::HttpRequest;
using gateway::HttpResponse;
using gateway::testing::Header;
using gateway::testing::JwksJson;
using gateway::testing::MakeEcKey;
using gateway::testing::MakeToken;
using gateway::testing::Sh;
using gateway::testing::TestKey;
using Headers = std::vector<std::pair<std::string, std::string>>;

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

// Claims with real times (the server reads the system clock).
std::string Claims(const std::string& extra, int64_t iat_offset = -10,
                   int64_t exp_offset = 300,
                   const std::string& aud = "genogate",
                   const std::string& iss = "https://idp.test") {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  return "{\"iss\":\"" + iss + "\",\"sub\":\"acme-client\",\"aud\":\"" + aud +
         "\",\"iat\":" + std::to_string(now + iat_offset) +
         ",\"exp\":" + std::to_string(now + exp_offset) + extra + "}";
}

class ServeAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t =
        (std::filesystem::temp_directory_path() / "genogate-auth-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    std::filesystem::create_directories(dir_ + "/outbox");
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

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

  // The HTTP port from the "serve.listening" log line; -1 if the process
  // exited or nothing came within a minute.
  int WaitForPort() {
    int port = -1;
    for (int i = 0; i < 6000 && port <= 0; ++i) {
      port = LogInt(Logs(), "serve.listening", "port");
      if (port > 0) break;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return port;
  }

  // Writes gw.yaml: loopback, data dir, a file outbox, and `security`.
  void WriteConfig(const std::string& security,
                   const std::string& server_extra = "") {
    std::ofstream(dir_ + "/gw.yaml")
        << "server:\n  listen: 127.0.0.1:0\n  data_dir: data\n"
        << server_extra << security << "endpoints:\n  - name: outbox\n"
        << "    url: file://" << dir_ << "/outbox\n";
  }

  std::unique_ptr<HttpClient> Client(const std::string& cert = "",
                                     const std::string& key = "") {
    gateway::HttpClientOptions o;
    o.max_idle_per_host = 0;
    o.ca_file = ca_;
    o.client_cert_file = cert;
    o.client_key_file = key;
    Result<std::unique_ptr<HttpClient>> c = gateway::NewHttpClient(o);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  Result<HttpResponse> Call(HttpClient& client, const std::string& method,
                            const std::string& path, Headers headers = {},
                            const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.url = base_ + path;
    r.headers = std::move(headers);
    r.body = body;
    return client.Send(r);
  }

  // The status of one request (0 if it could not be sent).
  int Status(HttpClient& client, const std::string& method,
             const std::string& path, Headers headers = {},
             const std::string& body = "") {
    Result<HttpResponse> r =
        Call(client, method, path, std::move(headers), body);
    return r.ok() ? r->status : 0;
  }

  std::string dir_;
  std::string base_;  // "http://127.0.0.1:PORT"
  std::string ca_;    // CA file for https
  pid_t pid_ = -1;
};

std::string LabJson() {
  return ReadAll(genogate::testing::SourceDir() + "/examples/lab-result.json");
}

TEST_F(ServeAuthTest, ApiKeysJwtsAndLabIsolationOverHttp) {
  // Callers: two labs and an admin by API key, an auditor, and a JWT
  // issuer whose tokens carry the lab in a claim.
  auto key = [] { return *gateway::GenerateApiKey(); };
  const std::string acme_key = key(), beta_key = key(), admin_key = key(),
                    auditor_key = key();
  std::unique_ptr<TestKey> idp = MakeEcKey("idp-1");
  std::unique_ptr<TestKey> forger = MakeEcKey("idp-1");  // same kid
  std::ofstream(dir_ + "/jwks.json") << JwksJson({idp.get()});
  std::string security =
      "security:\n"
      "  jwt:\n"
      "    - issuer: https://idp.test\n"
      "      audience: genogate\n"
      "      jwks_file: jwks.json\n"
      "      lab_claim: genogate_lab\n"
      "      role_mapping: {genogate/lab.submit: lab, genogate/admin: admin}\n"
      "  api_keys:\n"
      "    - identity: acme-uploader\n"
      "      hash: " +
      *gateway::HashApiKey(acme_key) +
      "\n      roles: [lab]\n      lab: acme\n"
      "    - identity: beta-uploader\n"
      "      hash: " +
      *gateway::HashApiKey(beta_key) +
      "\n      roles: [lab]\n      lab: beta\n"
      "    - identity: ops\n"
      "      hash: " +
      *gateway::HashApiKey(admin_key) +
      "\n      roles: [admin]\n"
      "    - identity: dpo\n"
      "      hash: " +
      *gateway::HashApiKey(auditor_key) + "\n      roles: [auditor]\n";
  WriteConfig(security);
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  EXPECT_NE(Logs().find("\"event\":\"serve.security\""), std::string::npos);
  EXPECT_EQ(Logs().find("serve.unauthenticated"), std::string::npos);
  base_ = "http://127.0.0.1:" + std::to_string(port);
  std::unique_ptr<HttpClient> c = Client();
  ASSERT_NE(c, nullptr);
  auto api_key = [](const std::string& k) { return Headers{{"X-API-Key", k}}; };
  auto bearer = [](const std::string& t) {
    return Headers{{"Authorization", "Bearer " + t}};
  };
  auto with_json = [](Headers h) {
    h.emplace_back("Content-Type", "application/json");
    return h;
  };

  // Operations routes stay open.
  EXPECT_EQ(Status(*c, "GET", "/healthz"), 200);
  EXPECT_EQ(Status(*c, "GET", "/readyz"), 200);
  EXPECT_EQ(Status(*c, "GET", "/metrics"), 200);

  // API keys: missing, wrong, valid.
  Result<HttpResponse> r =
      Call(*c, "POST", "/submissions", with_json({}), LabJson());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->Header("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(
      Status(*c, "POST", "/submissions", with_json(api_key(key())), LabJson()),
      401);
  EXPECT_EQ(
      Status(*c, "POST", "/submissions",
             with_json({{"Authorization", "ApiKey " + key()}}), LabJson()),
      401);
  r = Call(*c, "POST", "/submissions", with_json(api_key(acme_key)), LabJson());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string acme_submission(r->Header("Location"));
  ASSERT_EQ(acme_submission.rfind("/submissions/", 0), 0u);

  // Lab isolation: beta neither reads acme's submission (404, as an
  // unknown id) nor submits as acme.
  EXPECT_EQ(Status(*c, "GET", acme_submission, api_key(acme_key)), 200);
  r = Call(*c, "GET", acme_submission, api_key(beta_key));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  Result<HttpResponse> unknown =
      Call(*c, "GET", "/submissions/no-such-id", api_key(beta_key));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(r->body, unknown->body);
  EXPECT_EQ(Status(*c, "POST", "/submissions?lab=acme",
                   with_json(api_key(beta_key)), LabJson()),
            403);
  EXPECT_EQ(Status(*c, "POST", "/submissions?lab=beta",
                   with_json(api_key(beta_key)), LabJson()),
            202);
  EXPECT_EQ(Status(*c, "GET", acme_submission, api_key(admin_key)), 200);

  // Admin routes need the admin role; the audit trail the auditor's.
  EXPECT_EQ(Status(*c, "GET", "/admin/queues", api_key(acme_key)), 403);
  EXPECT_EQ(Status(*c, "GET", "/admin/queues", api_key(auditor_key)), 403);
  EXPECT_EQ(Status(*c, "GET", "/admin/queues"), 401);
  EXPECT_EQ(Status(*c, "GET", "/admin/queues", api_key(admin_key)), 200);
  EXPECT_EQ(Status(*c, "GET", "/audit", api_key(acme_key)), 403);
  EXPECT_EQ(Status(*c, "GET", "/audit", api_key(admin_key)), 403);
  EXPECT_EQ(Status(*c, "GET", "/audit", api_key(auditor_key)), 200);
  // An auditor or admin does not submit.
  EXPECT_EQ(Status(*c, "POST", "/submissions", with_json(api_key(admin_key)),
                   LabJson()),
            403);

  // Bearer JWTs.
  const std::string lab_scope =
      ",\"scope\":\"genogate/lab.submit\",\"genogate_lab\":\"acme\"";
  auto token = [&](const TestKey& k, const std::string& claims) {
    return MakeToken(k, "ES256", Header(k, "ES256"), claims);
  };
  const std::string valid = token(*idp, Claims(lab_scope));
  // The same lab as the acme API key: it reads acme's submission.
  EXPECT_EQ(Status(*c, "GET", acme_submission, bearer(valid)), 200);
  EXPECT_EQ(
      Status(*c, "POST", "/submissions", with_json(bearer(valid)), LabJson()),
      202);
  EXPECT_EQ(Status(*c, "POST", "/submissions?lab=beta",
                   with_json(bearer(valid)), LabJson()),
            403);
  EXPECT_EQ(Status(*c, "GET", "/admin/queues", bearer(valid)), 403);
  struct Bad {
    std::string what, token, reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"expired", token(*idp, Claims(lab_scope, -7200, -3600)), "expired"},
           {"not yet valid",
            token(*idp, Claims(lab_scope + ",\"nbf\":" +
                                   std::to_string(std::time(nullptr) + 3600),
                               -10, 7200)),
            "not yet valid"},
           {"wrongly signed", token(*forger, Claims(lab_scope)),
            "signature does not verify"},
           {"wrong audience",
            token(*idp, Claims(lab_scope, -10, 300, "someone-else")),
            "wrong audience"},
           {"wrong issuer",
            token(*idp,
                  Claims(lab_scope, -10, 300, "genogate", "https://evil.test")),
            "unknown issuer"},
           {"no role", token(*idp, Claims("")), "no role"},
           {"not a JWT", "abc.def", "malformed token"}}) {
    r = Call(*c, "GET", acme_submission, bearer(b.token));
    ASSERT_TRUE(r.ok()) << b.what;
    EXPECT_EQ(r->status, 401) << b.what;
    std::string www(r->Header("WWW-Authenticate"));
    EXPECT_NE(www.find("error=\"invalid_token\""), std::string::npos)
        << b.what << ": " << www;
    EXPECT_NE(www.find(b.reason), std::string::npos) << b.what << ": " << www;
    // The token never comes back.
    EXPECT_EQ(r->body.find(b.token), std::string::npos) << b.what;
  }
  EXPECT_EQ(Status(*c, "GET", acme_submission, {{"Authorization", "Bearer"}}),
            401);
  // Two credentials at once are refused.
  Headers both = bearer(valid);
  both.emplace_back("X-API-Key", acme_key);
  EXPECT_EQ(Status(*c, "GET", acme_submission, both), 401);

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
  // No credential ever reached the log.
  std::string logs = Logs();
  for (const std::string& secret :
       {acme_key, beta_key, admin_key, auditor_key, valid}) {
    EXPECT_EQ(logs.find(secret), std::string::npos);
  }
}

// Certificates made with the openssl command line: a CA, a server
// certificate for 127.0.0.1, and three client certificates signed by the
// CA (acme by subject, an admin by SAN, and one nobody mapped).
bool MakeCerts(const std::string& d) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  auto leaf = [&](const std::string& name, const std::string& subj,
                  const std::string& san) {
    return "openssl req " + ec + " -nodes -keyout " + name + ".key -out " +
           name + ".csr -subj '" + subj + "' 2>/dev/null && printf '" +
           "subjectAltName=" + san + "\\n' > " + name +
           ".ext && openssl x509 -req -in " + name +
           ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -out " + name +
           ".pem -days 2 -extfile " + name + ".ext 2>/dev/null";
  };
  return Sh(
      "cd '" + d + "' && openssl req -x509 " + ec +
      " -nodes -keyout ca.key -out ca.pem -days 2 -subj "
      "/CN=genogate-test-ca 2>/dev/null && " +
      leaf("srv", "/CN=localhost", "DNS:localhost,IP:127.0.0.1") + " && " +
      leaf("acme", "/C=GB/O=Acme Genomics/CN=acme-lab", "DNS:acme.lab.test") +
      " && " + leaf("ops", "/CN=ops-console", "URI:spiffe://ops/console") +
      " && " + leaf("stranger", "/CN=stranger", "DNS:stranger.test"));
}

TEST_F(ServeAuthTest, ClientCertificatesMapToCallersAndNoCertIsRefused) {
  ASSERT_TRUE(MakeCerts(dir_));
  const std::string d = dir_ + "/";
  WriteConfig(
      "security:\n"
      "  require_mtls: true\n"
      "  mtls:\n"
      "    - subject: \"CN=acme-lab,O=Acme Genomics,C=GB\"\n"
      "      identity: acme-lab\n"
      "      roles: [lab]\n"
      "      lab: acme\n"
      "    - san: \"URI:spiffe://ops/console\"\n"
      "      identity: ops\n"
      "      roles: [admin]\n",
      "  tls:\n    cert_file: srv.pem\n    key_file: srv.key\n"
      "    client_ca_file: ca.pem\n");
  Spawn({"serve", "--config", dir_ + "/gw.yaml"});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  base_ = "https://127.0.0.1:" + std::to_string(port);
  ca_ = d + "ca.pem";

  // No client certificate: the handshake is refused, even for /healthz.
  std::unique_ptr<HttpClient> none = Client();
  ASSERT_NE(none, nullptr);
  Result<HttpResponse> r = Call(*none, "GET", "/healthz");
  EXPECT_FALSE(r.ok());

  std::unique_ptr<HttpClient> acme = Client(d + "acme.pem", d + "acme.key");
  std::unique_ptr<HttpClient> ops = Client(d + "ops.pem", d + "ops.key");
  std::unique_ptr<HttpClient> stranger =
      Client(d + "stranger.pem", d + "stranger.key");
  ASSERT_TRUE(acme && ops && stranger);
  EXPECT_EQ(Status(*acme, "GET", "/healthz"), 200);
  // The acme certificate is the lab acme and nothing more.
  r = Call(*acme, "POST", "/submissions",
           {{"Content-Type", "application/json"}}, LabJson());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->status, 202) << r->body;
  const std::string loc(r->Header("Location"));
  EXPECT_EQ(Status(*acme, "GET", loc), 200);
  EXPECT_EQ(Status(*acme, "POST", "/submissions?lab=beta",
                   {{"Content-Type", "application/json"}}, LabJson()),
            403);
  EXPECT_EQ(Status(*acme, "GET", "/admin/queues"), 403);
  // The ops certificate (mapped by SAN) is an admin, not a lab.
  EXPECT_EQ(Status(*ops, "GET", "/admin/queues"), 200);
  EXPECT_EQ(Status(*ops, "GET", loc), 200);
  EXPECT_EQ(Status(*ops, "POST", "/submissions",
                   {{"Content-Type", "application/json"}}, LabJson()),
            403);
  // A certificate from the right CA that nobody mapped: no caller, no
  // access (not the old "local mode with every role").
  r = Call(*stranger, "GET", loc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Status(*stranger, "GET", "/admin/queues"), 401);
  EXPECT_EQ(Status(*stranger, "GET", "/healthz"), 200);

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
}

TEST_F(ServeAuthTest, ClientCaWithoutMappingsDoesNotOpenANonLoopbackAddress) {
  ASSERT_TRUE(MakeCerts(dir_));
  const std::string d = dir_ + "/";
  Spawn({"serve", "--listen", "0.0.0.0:0", "--data-dir", d + "data",
         "--tls-cert", d + "srv.pem", "--tls-key", d + "srv.key", "--client-ca",
         d + "ca.pem"});
  EXPECT_EQ(Wait(), 2);
  std::string logs = Logs();
  EXPECT_NE(logs.find("refusing to listen on 0.0.0.0"), std::string::npos)
      << logs;
  EXPECT_NE(logs.find("mtls"), std::string::npos) << logs;
  // The MLLP opt-in does not open the HTTP API either.
  Spawn({"serve", "--listen", "0.0.0.0:0", "--data-dir", d + "data",
         "--insecure-allow-unauthenticated"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("refusing to listen on 0.0.0.0"), std::string::npos)
      << Logs();
  // mTLS mappings without client certificates asked for: refused too.
  WriteConfig(
      "security:\n  mtls:\n    - subject: \"CN=x\"\n      identity: x\n"
      "      roles: [admin]\n");
  Spawn({"serve", "--config", d + "gw.yaml"});
  EXPECT_EQ(Wait(), 2);
  EXPECT_NE(Logs().find("--client-ca"), std::string::npos) << Logs();
  EXPECT_FALSE(std::filesystem::exists(d + "data"));
}

TEST_F(ServeAuthTest, WithoutAuthenticationServesLoopbackOnlyAndSaysSo) {
  Spawn({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir_ + "/data"});
  int port = WaitForPort();
  ASSERT_GT(port, 0) << Logs();
  std::string logs = Logs();
  size_t at = logs.find("\"event\":\"serve.unauthenticated\"");
  ASSERT_NE(at, std::string::npos) << logs;
  EXPECT_NE(logs.find("loopback only", at), std::string::npos);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(), 0) << Logs();
}

}  // namespace
}  // namespace genogate::cli
