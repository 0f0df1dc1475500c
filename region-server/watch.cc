#include "region-server/watch.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "region-server/server.h"

namespace activekv::server {
namespace {

// Redis's "the key is in the db's dict": it has visible state, expired or not.
bool Present(const crdt::Keyspace& ks, uint32_t ns, std::string_view key) {
  const crdt::Entry* e = ks.Find(key, ns);
  return e != nullptr && e->Exists();
}

// Redis keyIsExpired: present with a deadline that has passed.
bool Expired(const crdt::Keyspace& ks, uint32_t ns, std::string_view key, int64_t now_ms) {
  const crdt::Entry* e = ks.Find(key, ns);
  if (e == nullptr || !e->Exists()) return false;
  const int64_t deadline = e->DeadlineMs();
  return deadline != crdt::kNoDeadline && deadline <= now_ms;
}

WatchedKey* FindWatched(Client* client, uint32_t db, std::string_view key) {
  for (WatchedKey& wk : client->tx.watched) {
    if (wk.db == db && wk.key == key) return &wk;
  }
  return nullptr;
}

}  // namespace

uint32_t WatchRegistry::DbOf(const crdt::Keyspace& ks, uint32_t ns) {
  const crdt::DbMapping& mapping = ks.db_mapping();
  for (uint32_t db = 0; db < crdt::kDatabases; ++db) {
    if (mapping[db] == ns) return db;
  }
  return ns;  // unreachable: the mapping is a permutation
}

void WatchRegistry::Watch(Client* client, uint32_t db, std::string_view key,
                          const crdt::Keyspace& ks, int64_t now_ms) {
  if (FindWatched(client, db, key) != nullptr) return;
  client->tx.watched.push_back(
      WatchedKey{db, std::string(key), Expired(ks, ks.NamespaceOf(db), key, now_ms)});
  keys_[db][std::string(key)].push_back(client);
  ++watched_;
}

void WatchRegistry::UnwatchAll(Client* client) {
  for (const WatchedKey& wk : client->tx.watched) {
    auto& by_key = keys_[wk.db];
    auto it = by_key.find(wk.key);
    assert(it != by_key.end());
    std::vector<Client*>& clients = it->second;
    clients.erase(std::find(clients.begin(), clients.end(), client));
    if (clients.empty()) by_key.erase(it);
    --watched_;
  }
  client->tx.watched.clear();
}

bool WatchRegistry::AnyWatchedKeyExpired(const Client& client, const crdt::Keyspace& ks,
                                         int64_t now_ms) const {
  for (const WatchedKey& wk : client.tx.watched) {
    if (!wk.expired && Expired(ks, ks.NamespaceOf(wk.db), wk.key, now_ms)) return true;
  }
  return false;
}

void WatchRegistry::Dirty(Client* client) {
  client->tx.dirty_cas = true;
  UnwatchAll(client);
}

void WatchRegistry::AfterKeyOp(const v1::Op& op, const crdt::Keyspace& ks, int64_t now_ms) {
  const uint32_t db = DbOf(ks, op.db());
  auto it = keys_[db].find(op.key());
  if (it == keys_[db].end()) return;
  const bool present = Present(ks, op.db(), op.key());
  const bool expired = Expired(ks, op.db(), op.key(), now_ms);
  std::vector<Client*> dirty;
  for (Client* client : it->second) {
    WatchedKey* wk = FindWatched(client, db, op.key());
    if (wk->expired) {
      // Watched while already expired: deleting it is no logical change (Redis clears the flag);
      // neither is an op that leaves it expired. Anything else makes it visible: a change.
      if (!present) {
        wk->expired = false;
        continue;
      }
      if (expired) continue;
    }
    dirty.push_back(client);
  }
  for (Client* client : dirty) {
    if (!client->tx.dirty_cas) Dirty(client);
  }
}

void WatchRegistry::BeforeFlush(const v1::Op& op, const crdt::Keyspace& ks) {
  std::vector<Client*> dirty;
  for (uint32_t db = 0; db < crdt::kDatabases; ++db) {
    const uint32_t ns = ks.NamespaceOf(db);
    if (op.flush().one_db() && ns != op.db()) continue;
    for (auto& [key, clients] : keys_[db]) {
      if (!Present(ks, ns, key)) continue;
      for (Client* client : clients) {
        WatchedKey* wk = FindWatched(client, db, key);
        if (wk->expired) {
          wk->expired = false;  // an expired key now deleted: no logical change
          continue;
        }
        dirty.push_back(client);
      }
    }
  }
  for (Client* client : dirty) {
    if (!client->tx.dirty_cas) Dirty(client);
  }
}

void WatchRegistry::AfterMappingChange(const crdt::DbMapping& before, const crdt::Keyspace& ks,
                                       int64_t now_ms) {
  std::vector<Client*> dirty;
  for (uint32_t db = 0; db < crdt::kDatabases; ++db) {
    const uint32_t emptied = before[db];
    const uint32_t replaced = ks.NamespaceOf(db);
    if (emptied == replaced) continue;
    for (auto& [key, clients] : keys_[db]) {
      const bool in_emptied = Present(ks, emptied, key);
      const bool in_replaced = Present(ks, replaced, key);
      if (!in_emptied && !in_replaced) continue;
      const bool replaced_expired = Expired(ks, replaced, key, now_ms);
      for (Client* client : clients) {
        WatchedKey* wk = FindWatched(client, db, key);
        if (wk->expired) {
          if (!in_replaced) {
            wk->expired = false;  // expired key now gone: no logical change
            continue;
          }
          if (replaced_expired) continue;  // still an expired key
        } else if (!in_emptied && replaced_expired) {
          wk->expired = true;  // a missing key replaced by an expired one: no logical change
          continue;
        }
        dirty.push_back(client);
      }
    }
  }
  for (Client* client : dirty) {
    if (!client->tx.dirty_cas) Dirty(client);
  }
}

void WatchRegistry::TouchAll() {
  std::vector<Client*> dirty;
  for (auto& by_key : keys_) {
    for (auto& [key, clients] : by_key) {
      for (Client* client : clients) dirty.push_back(client);
    }
  }
  for (Client* client : dirty) {
    if (!client->tx.dirty_cas) Dirty(client);
  }
}

}  // namespace activekv::server
