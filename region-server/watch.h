#pragma once

// WATCH bookkeeping (docs/crdt-semantics.md, "Transactions"): which clients watch which keys, and
// marking them dirty (Redis's CLIENT_DIRTY_CAS) when an op that changes a watched key is applied
// -- a local write of any client, an op from another region, an expiry delete, a flush, a swap of
// databases. The Region reports every op it applies while anything is watched; nothing else
// reaches this class, so the write path pays one empty() check when nobody watches.
//
// Keys are watched in a logical database (the client's SELECT), as in Redis, and ops name
// physical namespaces: the keyspace's database mapping translates (SWAPDB moves what a watched
// key refers to, which touches it). Event-loop thread only.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "activekv/v1/op.pb.h"
#include "crdt/keyspace.h"

namespace activekv::server {

struct Client;

// One key a client watches (Redis's watchedKey).
struct WatchedKey {
  uint32_t db = 0;  // logical database
  std::string key;
  // The key had expired (still present, deadline passed) when WATCH ran: its expiry is not a
  // change, and deleting it is none either (Redis 7.0's watchedKey.expired).
  bool expired = false;
};

class WatchRegistry {
 public:
  WatchRegistry() = default;
  WatchRegistry(const WatchRegistry&) = delete;
  WatchRegistry& operator=(const WatchRegistry&) = delete;

  // True while no client watches any key: the Region skips reporting ops.
  bool empty() const { return watched_ == 0; }

  // WATCH `key` in logical database `db` for `client` (no-op if it does already). `ks` tells
  // whether the key has expired already at `now_ms`.
  void Watch(Client* client, uint32_t db, std::string_view key, const crdt::Keyspace& ks,
             int64_t now_ms);
  // Forgets every key `client` watches (UNWATCH, EXEC, DISCARD, RESET, disconnect, dirty).
  void UnwatchAll(Client* client);
  // EXEC's check (Redis isWatchedKeyExpired): a watched key that has expired since WATCH counts
  // as modified.
  bool AnyWatchedKeyExpired(const Client& client, const crdt::Keyspace& ks, int64_t now_ms) const;

  // The Region's reports, while !empty(). `op` was applied (Outcome kApplied) and changed
  // `op.key()` in namespace `op.db()`.
  void AfterKeyOp(const v1::Op& op, const crdt::Keyspace& ks, int64_t now_ms);
  // Before a FLUSHALL / FLUSHDB op is applied: every watched key that exists in a flushed
  // database is touched (Redis touchAllWatchedKeysInDb(db, NULL)).
  void BeforeFlush(const v1::Op& op, const crdt::Keyspace& ks);
  // After a SWAPDB op (or a state merge) changed the database mapping from `before`: every
  // watched key of a database whose namespace changed is touched when it exists in the old or
  // the new namespace (Redis touchAllWatchedKeysInDb(db, replaced_with)).
  void AfterMappingChange(const crdt::DbMapping& before, const crdt::Keyspace& ks, int64_t now_ms);
  // Marks every watching client dirty (a full resync merged a snapshot; the keyspace was
  // replaced after loading).
  void TouchAll();

 private:
  // Marks `client` dirty and forgets its keys (Redis: no point watching further).
  void Dirty(Client* client);
  // The logical database whose namespace is `ns` under the keyspace's current mapping.
  static uint32_t DbOf(const crdt::Keyspace& ks, uint32_t ns);

  // Per logical database: key -> the clients watching it, in WATCH order.
  std::array<absl::flat_hash_map<std::string, std::vector<Client*>>, crdt::kDatabases> keys_;
  size_t watched_ = 0;  // (client, key) pairs
};

}  // namespace activekv::server
