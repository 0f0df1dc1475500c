#include "region-server/blocking.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "crdt/redis_number.h"
#include "region-server/connection.h"
#include "region-server/server.h"

namespace activekv::server {

bool ParseBlockTimeout(std::string_view arg, int64_t* timeout_ms, std::string_view* error) {
  long double seconds;
  if (!crdt::ParseRedisLongDouble(arg, &seconds)) {
    *error = "ERR timeout is not a float or out of range";
    return false;
  }
  // Redis 7.0: (long long) ceill(seconds * 1000). A product beyond the range of a long long
  // converts to LLONG_MIN on x86-64, which then reads as negative.
  const long double ms = std::ceil(seconds * 1000.0L);
  if (!(ms > -9223372036854775808.0L && ms < 9223372036854775808.0L) || ms < 0) {
    *error = "ERR timeout is negative";
    return false;
  }
  *timeout_ms = static_cast<int64_t>(ms);
  return true;
}

bool ParseTimeout(CommandContext& ctx, std::string_view arg, int64_t* timeout_ms) {
  std::string_view error;
  if (ParseBlockTimeout(arg, timeout_ms, &error)) return true;
  ctx.reply->Error(error);
  return false;
}

void BlockOrTimeout(CommandContext& ctx, absl::Span<const std::string_view> keys,
                    int64_t timeout_ms, BlockingKeys::TimeoutReply deny_reply) {
  Client* client = ctx.client;
  if (client->connection == nullptr || client->deny_blocking) {
    if (deny_reply == BlockingKeys::TimeoutReply::kNullArray) {
      ctx.reply->NullArray();
    } else {
      ctx.reply->Null();
    }
    return;
  }
  ctx.server->blocking().Block(client->connection, client, ctx.region->db(), ctx.args, keys,
                               timeout_ms);
}

void BlockingKeys::Block(Connection* conn, Client* client, uint32_t db,
                         absl::Span<const std::string_view> args,
                         absl::Span<const std::string_view> keys, int64_t timeout_ms) {
  if (serving_ == client) {  // a re-run found nothing: keep the client's place
    served_blocked_again_ = true;
    return;
  }
  auto w = std::make_unique<Waiter>();
  w->conn = conn;
  w->client = client;
  w->db = db;
  w->args.assign(args.begin(), args.end());
  w->serial = ++next_serial_;
  for (std::string_view k : keys) {
    DbKey dk{db, std::string(k)};
    auto& q = by_key_[dk];
    if (std::find(q.begin(), q.end(), client) == q.end()) {
      q.push_back(client);
      w->keys.push_back(std::move(dk.second));
    }
  }
  if (timeout_ms > 0) {
    w->timer = std::make_unique<asio::steady_timer>(*io_);
    w->timer->expires_after(std::chrono::milliseconds(timeout_ms));
    w->timer->async_wait([this, client, serial = w->serial](const asio::error_code& ec) {
      if (!ec) OnTimeout(client, serial);
    });
  }
  client->blocked = true;
  waiters_[client] = std::move(w);
}

bool BlockingKeys::IsBlocked(const Client* client) const { return waiters_.contains(client); }

std::unique_ptr<BlockingKeys::Waiter> BlockingKeys::Remove(const Client* client) {
  auto it = waiters_.find(client);
  if (it == waiters_.end()) return nullptr;
  std::unique_ptr<Waiter> w = std::move(it->second);
  waiters_.erase(it);
  for (const std::string& k : w->keys) {
    auto q = by_key_.find(DbKey{w->db, k});
    if (q == by_key_.end()) continue;
    auto& d = q->second;
    d.erase(std::remove(d.begin(), d.end(), client), d.end());
    if (d.empty()) by_key_.erase(q);
  }
  if (w->timer) w->timer->cancel();
  w->client->blocked = false;
  return w;
}

void BlockingKeys::OnTimeout(const Client* client, uint64_t serial) {
  auto it = waiters_.find(client);
  if (it == waiters_.end() || it->second->serial != serial) return;
  std::unique_ptr<Waiter> w = Remove(client);
  w->conn->FinishBlocked(Connection::Unblocked::kTimeout);
}

bool BlockingKeys::Unblock(uint64_t client_id, bool error) {
  const Client* found = nullptr;
  for (const auto& [c, w] : waiters_) {
    if (c->id == client_id) found = c;
  }
  if (found == nullptr) return false;
  std::unique_ptr<Waiter> w = Remove(found);
  w->conn->FinishBlocked(error ? Connection::Unblocked::kError : Connection::Unblocked::kTimeout);
  return true;
}

void BlockingKeys::Forget(const Client* client) { Remove(client); }

uint32_t BlockingKeys::DbOf(const crdt::Keyspace& ks, uint32_t ns) {
  for (uint32_t db = 0; db < crdt::kDatabases; ++db) {
    if (ks.NamespaceOf(db) == ns) return db;
  }
  return ns;
}

void BlockingKeys::ScheduleServe() {
  if (serve_posted_ || ready_.empty()) return;
  serve_posted_ = true;
  asio::post(*io_, [this] {
    serve_posted_ = false;
    ServeReady();
  });
}

void BlockingKeys::AfterOp(const v1::Op& op, const crdt::Keyspace& ks) {
  if (op.has_swapdb()) {
    TouchAll();
    return;
  }
  if (op.has_flush()) return;  // a flush only removes
  DbKey dk{DbOf(ks, op.db()), op.key()};
  if (!by_key_.contains(dk) || ready_set_.contains(dk)) return;
  ready_set_.insert(dk);
  ready_.push_back(std::move(dk));
  ScheduleServe();
}

void BlockingKeys::TouchAll() {
  for (const auto& [dk, q] : by_key_) {
    if (ready_set_.insert(dk).second) ready_.push_back(dk);
  }
  ScheduleServe();
}

void BlockingKeys::ServeReady() {
  // Serving runs commands, whose ops may make more keys ready: loop until none is left.
  while (!ready_.empty()) {
    std::vector<DbKey> batch;
    batch.swap(ready_);
    ready_set_.clear();
    for (const DbKey& dk : batch) {
      // Clients waiting on this key, in the order they blocked, until one finds it empty.
      while (true) {
        auto q = by_key_.find(dk);
        if (q == by_key_.end() || q->second.empty()) break;
        const Client* client = q->second.front();
        Waiter* w = waiters_.at(client).get();
        serving_ = client;
        served_blocked_again_ = false;
        w->conn->RunBlocked(w->args);
        serving_ = nullptr;
        if (served_blocked_again_) break;  // still waiting, place kept
        std::unique_ptr<Waiter> done = Remove(client);
        done->conn->ResumeAfterBlocked();
      }
    }
  }
}

}  // namespace activekv::server
