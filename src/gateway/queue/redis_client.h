// RedisClient: a small synchronous Redis connection (hiredis underneath).
//
// Every call BLOCKS the calling thread for up to the connect or command
// timeout: run them on worker threads, never on a network (event loop)
// thread.
//
// Errors: connection failures, I/O errors, timeouts and the server's
// transient answers (LOADING, BUSY, MASTERDOWN, TRYAGAIN, READONLY, OOM) are
// ErrorCode::kUnavailable (retryable); after an I/O error the connection is
// dropped and the next call reconnects (a failed call is never re-sent by
// this class, because it may have been executed). Authentication failures
// are kFailedPrecondition. Errors raised by genogate's Lua scripts with a
// "GG_<CODE> " prefix map to that code (GG_CONFLICT -> kConflict,
// GG_NOTFOUND -> kNotFound, GG_INVALID -> kInvalidInput); any other error
// reply is kInternal.
//
// Sentinel: with RedisOptions::sentinel_master set, every (re)connect asks
// the Sentinels in turn for the master's address (SENTINEL
// get-master-addr-by-name) and checks with ROLE that the server it reached
// is a master; a READONLY or MASTERDOWN answer (a failover under way) also
// drops the connection, so the next call finds the new master. A call that
// fails during a failover is kUnavailable like any other lost connection.
//
// Thread-safety: a RedisClient is NOT thread-safe; use one per thread or a
// pool (RedisQueue keeps a pool).
#ifndef GENOGATE_GATEWAY_QUEUE_REDIS_CLIENT_H_
#define GENOGATE_GATEWAY_QUEUE_REDIS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace genogate::gateway {

struct RedisOptions {
  // TCP (host, port) unless unix_path is set.
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;
  std::string username;  // Redis 6 ACL user; empty for the default user
  std::string password;  // empty: no AUTH
  int db = 0;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
  // Sentinel mode when set: the master's name; host/port are then unused
  // and `sentinels` (host, port) are asked for the master's address.
  std::string sentinel_master;
  std::vector<std::pair<std::string, int>> sentinels;
  // AUTH for the Sentinels (often different from the data nodes').
  std::string sentinel_password;

  // Parses "redis://[[user]:password@]host[:port][/db]",
  // "unix:///path/to/socket[?db=N]" and
  // "redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/
  // master-name[/db]" (Sentinel port default 26379; the password is the
  // data nodes'). Passwords are percent-decoded. kInvalidInput for anything
  // else; the message never contains the password.
  static Result<RedisOptions> FromUrl(std::string_view url);

  // "redis://host:port/db", "unix:///path?db=N" or
  // "redis+sentinel://h1:p1,h2:p2/master/db", password redacted.
  std::string Describe() const;
};

// A reply as plain values (no hiredis types in this header).
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }
};

// A Lua script run with EVALSHA, falling back to EVAL when the server
// answers NOSCRIPT (after a restart or SCRIPT FLUSH).
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

class RedisClient {
 public:
  // Connects (and AUTH/SELECT as configured). kUnavailable if the server
  // cannot be reached, kFailedPrecondition if AUTH fails.
  static Result<std::unique_ptr<RedisClient>> Connect(RedisOptions options);

  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command and waits for its reply. An error reply from the
  // server is returned as an Error (see the mapping above), never as a
  // RedisReply of type kError.
  Result<RedisReply> Command(const std::vector<std::string>& argv);

  // EVALSHA script keys... args..., with the NOSCRIPT fallback.
  Result<RedisReply> Eval(const RedisScript& script,
                          const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);

  // False after an I/O error until the next call reconnects.
  bool connected() const;
  const RedisOptions& options() const { return options_; }

 private:
  struct Impl;
  explicit RedisClient(RedisOptions options);
  Status EnsureConnected();
  // Sentinel mode: asks the Sentinels for the master's address.
  Status ResolveMaster(std::string* host, int* port);
  // Sends argv; sets *noscript (if given) on a NOSCRIPT error reply.
  Result<RedisReply> Send(const std::vector<std::string>& argv, bool* noscript);

  RedisOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace genogate::gateway

#endif  // GENOGATE_GATEWAY_QUEUE_REDIS_CLIENT_H_
