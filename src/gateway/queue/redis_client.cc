#include "gateway/queue/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace genogate::gateway {
namespace {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(Convert(r->element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Maps a server error reply to an Error.
Error ErrorFromReply(std::string_view msg) {
  // Script errors may be wrapped ("ERR user_script:12: GG_CONFLICT ...").
  struct Mapping {
    std::string_view tag;
    ErrorCode code;
  };
  static constexpr Mapping kScriptCodes[] = {
      {"GG_CONFLICT ", ErrorCode::kConflict},
      {"GG_NOTFOUND ", ErrorCode::kNotFound},
      {"GG_INVALID ", ErrorCode::kInvalidInput},
  };
  for (const Mapping& m : kScriptCodes) {
    size_t at = msg.find(m.tag);
    if (at != std::string_view::npos) {
      std::string_view rest = msg.substr(at + m.tag.size());
      // Drop the script location suffix Redis may append.
      size_t script = rest.find(" script:");
      if (script != std::string_view::npos) rest = rest.substr(0, script);
      return Error(m.code, std::string(rest));
    }
  }
  static constexpr std::string_view kTransient[] = {
      "LOADING",  "BUSY", "MASTERDOWN",  "TRYAGAIN",
      "READONLY", "OOM",  "CLUSTERDOWN", "NOREPLICAS",
  };
  for (std::string_view t : kTransient) {
    if (StartsWith(msg, t)) {
      return Error(ErrorCode::kUnavailable,
                   "redis is temporarily unavailable: " + std::string(msg));
    }
  }
  if (StartsWith(msg, "NOAUTH") || StartsWith(msg, "WRONGPASS") ||
      StartsWith(msg, "NOPERM")) {
    return Error(
        ErrorCode::kFailedPrecondition,
        "redis refused the credentials or permission: " + std::string(msg));
  }
  return Error(ErrorCode::kInternal, "redis error: " + std::string(msg));
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool ParseInt(std::string_view s, int min, int max, int* out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

Result<RedisOptions> RedisOptions::FromUrl(std::string_view url) {
  RedisOptions o;
  auto bad = [](std::string_view why) {
    return Error(ErrorCode::kInvalidInput,
                 "bad redis URL (expected redis://[[user]:password@]host[:"
                 "port][/db] or unix:///path[?db=N]): " +
                     std::string(why));
  };
  if (StartsWith(url, "unix://")) {
    std::string_view rest = url.substr(7);
    size_t q = rest.find('?');
    o.unix_path = std::string(rest.substr(0, q));
    if (o.unix_path.empty() || o.unix_path[0] != '/') {
      return bad("unix socket path must be absolute");
    }
    if (q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      if (!StartsWith(query, "db=") ||
          !ParseInt(query.substr(3), 0, 1 << 20, &o.db)) {
        return bad("only ?db=N is supported after a unix socket path");
      }
    }
    return o;
  }
  const bool sentinel = StartsWith(url, "redis+sentinel://");
  if (!sentinel && !StartsWith(url, "redis://")) return bad("unknown scheme");
  std::string_view rest = url.substr(sentinel ? 17 : 8);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (sentinel) {
    size_t next = path.find('/');
    o.sentinel_master = std::string(path.substr(0, next));
    if (o.sentinel_master.empty()) {
      return bad("redis+sentinel:// needs the master name as its path");
    }
    path = next == std::string_view::npos ? "" : path.substr(next + 1);
  }
  if (!path.empty() && !ParseInt(path, 0, 1 << 20, &o.db)) {
    return bad("database must be a number");
  }
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // "redis://password@host" is ambiguous; accept it as the password, as
      // most clients do.
      o.password = PercentDecode(userinfo);
    } else {
      o.username = PercentDecode(userinfo.substr(0, colon));
      o.password = PercentDecode(userinfo.substr(colon + 1));
    }
  }
  // host[:port] or [ipv6][:port].
  auto parse_host = [&](std::string_view text, std::string* host,
                        int* port) -> Status {
    std::string_view h = text;
    if (!text.empty() && text[0] == '[') {
      size_t close = text.find(']');
      if (close == std::string_view::npos) return bad("unclosed '['");
      h = text.substr(1, close - 1);
      std::string_view after = text.substr(close + 1);
      if (!after.empty() &&
          (after[0] != ':' || !ParseInt(after.substr(1), 1, 65535, port))) {
        return bad("port must be 1..65535");
      }
    } else {
      size_t colon = text.rfind(':');
      if (colon != std::string_view::npos) {
        h = text.substr(0, colon);
        if (!ParseInt(text.substr(colon + 1), 1, 65535, port)) {
          return bad("port must be 1..65535");
        }
      }
    }
    if (h.empty()) return bad("missing host");
    *host = std::string(h);
    return Status::Ok();
  };
  if (!sentinel) {
    if (Status s = parse_host(authority, &o.host, &o.port); !s.ok()) {
      return s.error();
    }
    return o;
  }
  while (true) {
    size_t comma = authority.find(',');
    std::pair<std::string, int> node{"", 26379};
    if (Status s =
            parse_host(authority.substr(0, comma), &node.first, &node.second);
        !s.ok()) {
      return s.error();
    }
    o.sentinels.push_back(std::move(node));
    if (comma == std::string_view::npos) break;
    authority = authority.substr(comma + 1);
  }
  return o;
}

std::string RedisOptions::Describe() const {
  std::string auth = password.empty() ? "" : (username + ":***@");
  if (!sentinel_master.empty()) {
    std::string out = "redis+sentinel://" + auth;
    for (size_t i = 0; i < sentinels.size(); ++i) {
      if (i > 0) out += ",";
      out += sentinels[i].first + ":" + std::to_string(sentinels[i].second);
    }
    return out + "/" + sentinel_master + "/" + std::to_string(db);
  }
  if (!unix_path.empty()) {
    return "unix://" + unix_path + "?db=" + std::to_string(db);
  }
  return "redis://" + auth + host + ":" + std::to_string(port) + "/" +
         std::to_string(db);
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(),
       digest);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) {
    std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  }
  sha1_.assign(hex, 2 * SHA_DIGEST_LENGTH);
}

struct RedisClient::Impl {
  redisContext* ctx = nullptr;
  ~Impl() { Reset(); }
  void Reset() {
    if (ctx != nullptr) redisFree(ctx);
    ctx = nullptr;
  }
};

RedisClient::RedisClient(RedisOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

RedisClient::~RedisClient() = default;

bool RedisClient::connected() const { return impl_->ctx != nullptr; }

Result<std::unique_ptr<RedisClient>> RedisClient::Connect(
    RedisOptions options) {
  std::unique_ptr<RedisClient> c(new RedisClient(std::move(options)));
  Status s = c->EnsureConnected();
  if (!s.ok()) return s.error();
  return c;
}

Status RedisClient::ResolveMaster(std::string* host, int* port) {
  std::string last = "no sentinel configured";
  for (const auto& [shost, sport] : options_.sentinels) {
    RedisOptions so;
    so.host = shost;
    so.port = sport;
    so.password = options_.sentinel_password;
    so.connect_timeout = options_.connect_timeout;
    so.command_timeout = options_.command_timeout;
    Result<std::unique_ptr<RedisClient>> sentinel =
        RedisClient::Connect(std::move(so));
    if (!sentinel.ok()) {
      last = sentinel.error().message();
      continue;
    }
    Result<RedisReply> r = (*sentinel)->Command(
        {"SENTINEL", "get-master-addr-by-name", options_.sentinel_master});
    if (!r.ok()) {
      last = r.error().message();
      continue;
    }
    int p = 0;
    if (r->is_array() && r->elements.size() == 2 &&
        ParseInt(r->elements[1].str, 1, 65535, &p)) {
      *host = r->elements[0].str;
      *port = p;
      return Status::Ok();
    }
    last = "sentinel " + shost + ":" + std::to_string(sport) +
           " does not know master \"" + options_.sentinel_master + "\"";
  }
  return Error(
      ErrorCode::kUnavailable,
      "no sentinel of " + options_.Describe() + " named a master: " + last);
}

Status RedisClient::EnsureConnected() {
  if (impl_->ctx != nullptr) return Status::Ok();
  timeval ctv = ToTimeval(options_.connect_timeout);
  std::string host = options_.host;
  int port = options_.port;
  const bool sentinel = !options_.sentinel_master.empty();
  if (sentinel) {
    if (Status s = ResolveMaster(&host, &port); !s.ok()) return s;
  }
  redisContext* ctx =
      options_.unix_path.empty() || sentinel
          ? redisConnectWithTimeout(host.c_str(), port, ctv)
          : redisConnectUnixWithTimeout(options_.unix_path.c_str(), ctv);
  if (ctx == nullptr) {
    return Error(ErrorCode::kUnavailable,
                 "cannot allocate a redis context for " + options_.Describe());
  }
  if (ctx->err != 0) {
    std::string why = ctx->errstr;
    redisFree(ctx);
    return Error(ErrorCode::kUnavailable, "cannot connect to redis at " +
                                              options_.Describe() + ": " + why);
  }
  if (redisSetTimeout(ctx, ToTimeval(options_.command_timeout)) != REDIS_OK) {
    redisFree(ctx);
    return Error(ErrorCode::kUnavailable, "cannot set the redis timeout");
  }
  impl_->ctx = ctx;
  if (!options_.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    Result<RedisReply> r = Command(auth);
    if (!r.ok()) {
      impl_->Reset();
      return r.error().WithContext("redis AUTH at " + options_.Describe());
    }
  }
  if (sentinel) {
    // The Sentinels may still name the old master during a failover.
    Result<RedisReply> role = Command({"ROLE"});
    if (!role.ok() || !role->is_array() || role->elements.empty() ||
        role->elements[0].str != "master") {
      impl_->Reset();
      return Error(ErrorCode::kUnavailable,
                   "the server the sentinels of " + options_.Describe() +
                       " named (" + host + ":" + std::to_string(port) +
                       ") is not a master (failover under way?)");
    }
  }
  if (options_.db != 0) {
    Result<RedisReply> r = Command({"SELECT", std::to_string(options_.db)});
    if (!r.ok()) {
      impl_->Reset();
      return r.error();
    }
  }
  return Status::Ok();
}

Result<RedisReply> RedisClient::Command(const std::vector<std::string>& argv) {
  return Send(argv, nullptr);
}

Result<RedisReply> RedisClient::Send(const std::vector<std::string>& argv,
                                     bool* noscript) {
  Status s = EnsureConnected();
  if (!s.ok()) return s.error();
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  errno = 0;
  ReplyPtr reply(static_cast<redisReply*>(redisCommandArgv(
      impl_->ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
  if (reply == nullptr || impl_->ctx->err != 0) {
    std::string why = impl_->ctx->errstr;
    bool timeout = impl_->ctx->err == REDIS_ERR_IO &&
                   (errno == EAGAIN || errno == EWOULDBLOCK);
    impl_->Reset();  // the connection state is unknown: reconnect next time
    return Error(ErrorCode::kUnavailable,
                 std::string(timeout ? "redis command timed out"
                                     : "redis connection failed") +
                     " (" + options_.Describe() + "): " + why);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string_view msg(reply->str, reply->len);
    if (noscript != nullptr && StartsWith(msg, "NOSCRIPT")) {
      *noscript = true;
      return Error(ErrorCode::kNotFound, "NOSCRIPT");
    }
    Error e = ErrorFromReply(msg);
    // A demoted master: find the new one on the next call.
    if (!options_.sentinel_master.empty() &&
        (StartsWith(msg, "READONLY") || StartsWith(msg, "MASTERDOWN"))) {
      impl_->Reset();
    }
    return e;
  }
  return Convert(reply.get());
}

Result<RedisReply> RedisClient::Eval(const RedisScript& script,
                                     const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  bool noscript = false;
  Result<RedisReply> r = Send(argv, &noscript);
  if (!noscript) return r;
  // Not cached on this server (restart, failover, SCRIPT FLUSH): EVAL sends
  // the source and caches it again.
  argv[0] = "EVAL";
  argv[1] = script.source();
  return Send(argv, nullptr);
}

}  // namespace genogate::gateway
