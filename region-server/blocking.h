#pragma once

// Clients blocked on keys: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP (Redis
// 7.0's blocking.c, docs/crdt-semantics.md "Blocking commands").
//
// A blocking command that finds none of its keys ready calls Block(): the client stops running
// commands (its further input waits in its buffer) until one of its keys may be ready, its
// timeout passes, or CLIENT UNBLOCK. The Region reports every op it applies while anyone is
// blocked -- a local write of any client, an op from another region, a state merge -- so a push
// replicated in from a peer wakes a local client exactly as a local push does. A key that may be
// ready is served right after the command that touched it (as redis-server serves blocked
// clients before the next command runs) or, for ops from peers, from a task posted on the event
// loop: the waiting clients' commands run again, in the order the clients blocked (FIFO per
// key), each in its connection, until one finds nothing (it blocks again and keeps its place).
//
// Event-loop thread only.

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"
#include "activekv/v1/op.pb.h"
#include "asio.hpp"
#include "crdt/keyspace.h"
#include "region-server/command.h"

namespace activekv::server {

class Connection;
struct Client;

class BlockingKeys {
 public:
  // What a blocking command answers when it may not block (inside MULTI/EXEC): a null array,
  // or a null bulk for BLMOVE / BRPOPLPUSH. A wait that ends without data (timeout, CLIENT
  // UNBLOCK ... TIMEOUT) answers a null array for every command, as redis-server 7.0 does.
  enum class TimeoutReply { kNullArray, kNull };

  explicit BlockingKeys(asio::io_context* io) : io_(io) {}
  BlockingKeys(const BlockingKeys&) = delete;
  BlockingKeys& operator=(const BlockingKeys&) = delete;

  // Nobody blocked: the Region skips reporting ops.
  bool empty() const { return waiters_.empty(); }
  size_t blocked_clients() const { return waiters_.size(); }

  // The command `args` of `conn`'s client (logical database `db`) found none of `keys` ready:
  // the client waits for them for `timeout_ms` (0: forever). Called again by the same command
  // re-run for a key that turned out empty, it keeps the client's place.
  void Block(Connection* conn, Client* client, uint32_t db, absl::Span<const std::string_view> args,
             absl::Span<const std::string_view> keys, int64_t timeout_ms);
  bool IsBlocked(const Client* client) const;

  // The Region's reports while !empty(): `op` was applied.
  void AfterOp(const v1::Op& op, const crdt::Keyspace& ks);
  // Every key may be ready (a state merge, a swap of databases).
  void TouchAll();
  bool has_ready() const { return !ready_.empty(); }
  // Serves the clients waiting on keys that may be ready, until none is left.
  void ServeReady();

  // CLIENT UNBLOCK: ends `client_id`'s wait as a timeout or with -UNBLOCKED; false when it is not
  // blocked.
  bool Unblock(uint64_t client_id, bool error);
  // The connection is going away.
  void Forget(const Client* client);

 private:
  struct Waiter {
    Connection* conn;
    Client* client;
    uint32_t db;
    std::vector<std::string> args;  // the command, run again when a key is ready
    std::vector<std::string> keys;
    std::unique_ptr<asio::steady_timer> timer;  // null: no timeout
    // Tells this wait from a later one of the same client (a timer that fired just before the
    // wait ended must not end the next one).
    uint64_t serial = 0;
  };
  using DbKey = std::pair<uint32_t, std::string>;

  // Ends `w`'s wait: removes it from every key's queue and the index.
  std::unique_ptr<Waiter> Remove(const Client* client);
  void OnTimeout(const Client* client, uint64_t serial);
  // The logical database whose namespace is `ns` under the keyspace's current mapping.
  static uint32_t DbOf(const crdt::Keyspace& ks, uint32_t ns);
  void ScheduleServe();

  asio::io_context* io_;
  absl::flat_hash_map<const Client*, std::unique_ptr<Waiter>> waiters_;
  // (logical db, key) -> clients waiting on it, in the order they blocked.
  absl::flat_hash_map<DbKey, std::deque<const Client*>> by_key_;
  // Keys that may be ready, in the order they were touched.
  std::vector<DbKey> ready_;
  absl::flat_hash_set<DbKey> ready_set_;
  // A re-run command found its key empty and blocked again (Block() during ServeReady).
  const Client* serving_ = nullptr;
  bool served_blocked_again_ = false;
  bool serve_posted_ = false;
  uint64_t next_serial_ = 0;
};

// For a blocking command's handler that found none of `keys` ready: blocks the client (a
// connection's, outside MULTI/EXEC and scripts) or, when it may not block (Redis's
// CLIENT_DENY_BLOCKING), replies `deny_reply`.
void BlockOrTimeout(CommandContext& ctx, absl::Span<const std::string_view> keys,
                    int64_t timeout_ms, BlockingKeys::TimeoutReply deny_reply);

// Redis's getTimeoutFromObjectOrReply(UNIT_SECONDS): the timeout in ms (0: forever), or an error
// text for the reply.
bool ParseBlockTimeout(std::string_view arg, int64_t* timeout_ms, std::string_view* error);
// The same for a blocking command's handler: false after replying the error.
bool ParseTimeout(CommandContext& ctx, std::string_view arg, int64_t* timeout_ms);

}  // namespace activekv::server
