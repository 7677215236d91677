// `genogate serve`, step 1: background services. This file may include the
// HTTP client family (endpoint.h, delivery, queue), never router.h or the
// API routes (see serve_wiring.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>

#include "cli/common.h"
#include "cli/serve_wiring.h"
#include "conformance/validator/validator.h"
#include "gateway/api/endpoint_checker.h"
#include "gateway/config/endpoint.h"
#include "gateway/crypto/key_ring.h"
#include "gateway/delivery/delivery_metrics.h"
#include "gateway/delivery/delivery_service.h"
#include "gateway/http/http_client.h"
#include "gateway/mllp/mllp_listener.h"
#include "gateway/mllp/oru_handler.h"
#include "gateway/mllp/service_sink.h"
#include "gateway/queue/queue_metrics.h"
#include "gateway/queue/queue_monitor.h"
#include "gateway/queue/redis_queue.h"
#include "gateway/server/log.h"
#include "gateway/submission/metered_submission_service.h"
#include "gateway/submission/submission_service.h"
#include "gateway/submission/submission_store.h"

namespace genogate::cli {
namespace {

// Loads the key ring from `path`, or, when `path` is DATA_DIR/queue.key and
// does not exist yet, creates it (0600) with one random key.
Result<gateway::KeyRing> LoadOrCreateKeyRing(const std::string& path,
                                             bool may_create, bool* created) {
  *created = false;
  struct stat st;
  if (may_create && ::stat(path.c_str(), &st) != 0) {
    unsigned char key[32];
    FILE* r = std::fopen("/dev/urandom", "rb");
    bool ok = r != nullptr && std::fread(key, 1, sizeof(key), r) == sizeof(key);
    if (r != nullptr) std::fclose(r);
    if (!ok) {
      return Error(ErrorCode::kIo, "cannot read random bytes for " + path);
    }
    static const char kHex[] = "0123456789abcdef";
    std::string text =
        "# genogate queue key ring (created by serve)\nk1 = hex:";
    for (unsigned char c : key) {
      text += kHex[c >> 4];
      text += kHex[c & 15];
    }
    text += "\n";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return Error(ErrorCode::kIo, "cannot create " + path);
    bool written = ::write(fd, text.data(), text.size()) ==
                   static_cast<ssize_t>(text.size());
    written = ::fsync(fd) == 0 && written;
    ::close(fd);
    if (!written) return Error(ErrorCode::kIo, "cannot write " + path);
    *created = true;
  }
  return gateway::KeyRing::LoadFile(path);
}

}  // namespace

Result<std::shared_ptr<gateway::HttpClient>> NewJwksClient() {
  Result<std::unique_ptr<gateway::HttpClient>> c =
      gateway::NewHttpClient(gateway::HttpClientOptions{});
  if (!c.ok()) return c.error();
  return std::shared_ptr<gateway::HttpClient>(std::move(c).value());
}

Status StartServeServices(ServeContext& ctx) {
  // The endpoints: the config file's, then --endpoint flags (a flag
  // replaces a configured endpoint of the same name).
  auto endpoints = std::make_shared<std::vector<gateway::Endpoint>>();
  if (!ctx.config_file.empty() && ctx.config_has_endpoints) {
    Result<std::vector<gateway::Endpoint>> eps =
        gateway::LoadEndpointsFile(ctx.config_file);
    if (!eps.ok()) return eps.error();
    *endpoints = std::move(eps).value();
  }
  for (const std::string& flag : ctx.endpoint_flags) {
    Result<gateway::Endpoint> e = gateway::ParseEndpointFlag(flag);
    if (!e.ok()) return e.error();
    std::erase_if(*endpoints, [&](const gateway::Endpoint& x) {
      return x.name == e->name;
    });
    endpoints->push_back(std::move(e).value());
  }
  if (endpoints->empty()) {
    // No endpoint configured: deliver to a file outbox in the data
    // directory, so that a first `genogate serve` works out of the box.
    std::string outbox = ctx.data_dir + "/outbox";
    ::mkdir(outbox.c_str(), 0700);
    Result<gateway::Endpoint> e =
        gateway::ParseEndpointFlag("outbox=file://" + outbox);
    if (!e.ok()) return e.error();
    endpoints->push_back(std::move(e).value());
    ctx.logger->Warn("serve.default_endpoint")
        .Str("endpoint", "outbox")
        .Str("path", outbox)
        .Str("message",
             "no endpoint configured (--endpoint NAME=URL or endpoints: in "
             "--config): delivering to a file outbox in the data directory");
  }
  for (const gateway::Endpoint& e : *endpoints) {
    ctx.logger->Info("serve.endpoint")
        .Str("endpoint", e.name)
        .Str("kind",
             e.kind == gateway::Endpoint::Kind::kFile ? "file" : "fhir");
  }
  ctx.keep.push_back(endpoints);

  // 1. The queue, its payloads encrypted with the key ring.
  std::string key_file = ctx.queue_key_file;
  bool generated_key_file = key_file.empty();
  if (generated_key_file) key_file = ctx.data_dir + "/queue.key";
  bool created = false;
  Result<gateway::KeyRing> keys =
      LoadOrCreateKeyRing(key_file, generated_key_file, &created);
  if (!keys.ok()) return keys.error().WithContext("queue key ring");
  if (created) {
    ctx.logger->Warn("serve.queue_key_created")
        .Str("key_file", key_file)
        .Str("message",
             "created a new queue key ring (0600); back it up: queued "
             "payloads cannot be read without it");
  }
  gateway::RedisQueueOptions qo;
  qo.redis = ctx.redis;
  qo.queue = ctx.queue_options;
  Result<std::unique_ptr<gateway::RedisQueue>> queue =
      gateway::RedisQueue::Create(qo, std::make_shared<const gateway::KeyRing>(
                                          std::move(keys).value()));
  if (!queue.ok()) return queue.error().WithContext("queue");
  std::shared_ptr<gateway::RedisQueue> q = std::move(queue).value();
  ctx.keep.push_back(q);
  ctx.services.queue = q.get();
  gateway::AddQueueMetrics(ctx.metrics, q.get());

  // 2. FHIR definitions and the validator (loaded once).
  DefinitionOptions defs_options;
  defs_options.packages = conformance::BundledResourceDirs();
  Result<Definitions> loaded = LoadDefinitions(defs_options);
  if (!loaded.ok()) return loaded.error().WithContext("FHIR definitions");
  auto defs = std::make_shared<Definitions>(std::move(loaded).value());
  auto validator = std::make_shared<conformance::Validator>(
      defs->packages.get(), defs->schema.get());
  ctx.keep.push_back(defs);
  ctx.keep.push_back(validator);
  ctx.services.validator = validator.get();
  ctx.services.packages = defs->packages.get();

  // 3. Submissions.
  Result<std::unique_ptr<gateway::RedisSubmissionStore>> store =
      gateway::RedisSubmissionStore::Open(ctx.redis);
  if (!store.ok()) return store.error().WithContext("submission store");
  std::shared_ptr<gateway::RedisSubmissionStore> st = std::move(store).value();
  ctx.keep.push_back(st);
  gateway::SubmissionServiceOptions so;
  for (const gateway::Endpoint& e : *endpoints) so.endpoints.push_back(e.name);
  so.audit = ctx.audit;
  Result<std::unique_ptr<gateway::DefaultSubmissionService>> service =
      gateway::DefaultSubmissionService::Create(so, validator.get(), q.get(),
                                                st.get());
  if (!service.ok()) return service.error().WithContext("submissions");
  std::shared_ptr<gateway::DefaultSubmissionService> svc =
      std::move(service).value();
  ctx.keep.push_back(svc);
  // Counted for /metrics (submissions by outcome, findings by code), for
  // HTTP and MLLP alike.
  auto metered = std::make_shared<gateway::MeteredSubmissionService>(
      svc.get(), ctx.metrics);
  ctx.keep.push_back(metered);
  ctx.services.submissions = metered.get();

  // 4. Endpoint checks for GET /admin/endpoints?check=true.
  Result<std::unique_ptr<gateway::EndpointChecker>> checker =
      gateway::MakeEndpointChecker(*endpoints);
  if (!checker.ok()) return checker.error().WithContext("endpoint checker");
  std::shared_ptr<gateway::EndpointChecker> ck = std::move(checker).value();
  ctx.keep.push_back(ck);
  ctx.services.checker = ck.get();

  // 5. Delivery workers.
  gateway::DeliveryServiceOptions dso;
  dso.audit = ctx.audit;
  dso.software = std::string("genogate ") + GENOGATE_VERSION;
  Result<std::unique_ptr<gateway::DeliveryService>> delivery =
      gateway::DeliveryService::Create(*endpoints, q.get(), dso);
  if (!delivery.ok()) return delivery.error().WithContext("delivery");
  std::shared_ptr<gateway::DeliveryService> ds = std::move(delivery).value();
  ctx.keep.push_back(ds);
  gateway::AddDeliveryMetrics(ctx.metrics, ds.get());
  ds->Start();
  ctx.stops.push_back([ds] { ds->Stop(); });

  // 6. Back-pressure: the queue's depth against the high-water mark.
  gateway::QueueMonitorOptions qm;
  qm.high_water_mark = ctx.queue_high_water_mark;
  auto monitor = std::make_shared<gateway::QueueMonitor>(q.get(), qm);
  ctx.keep.push_back(monitor);
  ctx.stops.push_back([monitor] { monitor->Stop(); });
  ctx.overloaded = [m = monitor.get()] { return m->overloaded(); };

  // 7. The MLLP listener (HL7 v2 ORU^R01 over TCP), when configured.
  const std::string& mllp = ctx.mllp_listen;
  if (!mllp.empty()) {
    Result<std::pair<std::string, uint16_t>> hp =
        gateway::ParseHostPort(mllp, /*allow_port_zero=*/true);
    if (!hp.ok()) return hp.error().WithContext("--mllp-listen");
    gateway::MllpListenerOptions mo;
    if (ctx.mllp_options != nullptr) mo = *ctx.mllp_options;
    mo.host = hp->first;
    mo.port = hp->second;
    // One size limit: the listener's frame limit and the ER7 reader's.
    gateway::OruHandlerOptions ho;
    ho.read.parse.max_bytes = mo.max_message_bytes;
    auto sink = std::make_shared<gateway::ServiceSink>(metered.get(),
                                                       ctx.authenticator);
    auto handler = std::make_shared<gateway::OruHandler>(sink.get(), ho);
    ctx.keep.push_back(sink);
    ctx.keep.push_back(handler);
    gateway::Logger* logger = ctx.logger;
    mo.log = [logger](std::string_view line) {
      logger->Info("mllp").Str("message", line);
    };
    Result<std::unique_ptr<gateway::MllpListener>> listener =
        gateway::MllpListener::Start(mo, handler.get());
    if (!listener.ok()) {
      // kFailedPrecondition: the TLS files (the message names the file).
      return listener.error().WithContext(listener.error().code() ==
                                                  ErrorCode::kFailedPrecondition
                                              ? "MLLP listener (mllp.tls)"
                                              : "MLLP listener");
    }
    std::shared_ptr<gateway::MllpListener> ml = std::move(listener).value();
    ctx.keep.push_back(ml);
    ctx.stops.push_back([ml] { ml->Stop(); });
    if (mo.tls) {
      ctx.reloads.push_back([ml] { (void)ml->ReloadTls(); });  // logs itself
    }
    ctx.logger->Info("serve.mllp_listening")
        .Str("host", mo.host)
        .Int("port", ml->port())
        .Bool("tls", mo.tls)
        .Bool("mtls", mo.tls && !mo.tls_options.client_ca_file.empty())
        .Int("max_message_bytes", static_cast<int64_t>(mo.max_message_bytes))
        .Int("max_connections", static_cast<int64_t>(mo.max_connections));
  }
  return Status::Ok();
}

}  // namespace genogate::cli
