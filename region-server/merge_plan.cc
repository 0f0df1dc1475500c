#include "region-server/merge_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/resp/reply.h"

namespace activekv::server {
namespace {

using Command = std::vector<std::string>;

std::string IdText(uint64_t ms, uint64_t seq) { return absl::StrCat(ms, "-", seq); }
std::string IdText(const crdt::StreamId& id) { return IdText(id.ms, id.seq); }

// Appends `items` (each one or two arguments) to commands `head...`, kMergeBatch items each.
class Batcher {
 public:
  Batcher(std::vector<Command>* out, Command head) : out_(out), head_(std::move(head)) {}
  ~Batcher() { Flush(); }
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  void Add(std::string_view a) {
    Open();
    cur_.emplace_back(a);
    Count();
  }
  void Add(std::string_view a, std::string_view b) {
    Open();
    cur_.emplace_back(a);
    cur_.emplace_back(b);
    Count();
  }
  // Ends the current command (the next Add starts another).
  void Flush() {
    if (!cur_.empty()) out_->push_back(std::move(cur_));
    cur_.clear();
    items_ = 0;
  }

 private:
  void Open() {
    if (cur_.empty()) cur_ = head_;
  }
  void Count() {
    if (++items_ == kMergeBatch) Flush();
  }

  std::vector<Command>* out_;
  Command head_;
  Command cur_;
  size_t items_ = 0;
};

// `int_cmd` (INCRBY, HINCRBY) for an integer counter, `float_cmd` otherwise: `args` (the key,
// the field) then the value.
Command CounterAdd(std::string_view int_cmd, std::string_view float_cmd, Command args,
                   std::string_view value) {
  int64_t n;
  Command c{std::string(crdt::ParseRedisInt(value, &n) ? int_cmd : float_cmd)};
  for (std::string& a : args) c.push_back(std::move(a));
  c.emplace_back(value);
  return c;
}

void PlanString(std::string_view key, const crdt::Entry& e, const crdt::RegionTable& regions,
                bool create, std::vector<Command>* out) {
  const std::string_view value = e.Value(regions);
  if (e.Counted(regions)) {
    out->push_back(CounterAdd("INCRBY", "INCRBYFLOAT", {std::string(key)}, value));
    return;
  }
  Command c{"SET", std::string(key), std::string(value)};
  if (!create) c.emplace_back("KEEPTTL");
  out->push_back(std::move(c));
}

// Fields in the hash's order (a hash the merge creates shows HGETALL's order of the backup's).
void PlanHash(std::string_view key, const crdt::HashValue& h, const crdt::RegionTable& regions,
              std::vector<Command>* out) {
  Batcher hset(out, {"HSET", std::string(key)});
  for (size_t i = 0; i < h.size(); ++i) {
    const crdt::HashValue::Field& f = h.at(i);
    const std::string_view value = h.ValueOf(f, regions);
    if (f.reg.Counted(regions)) {
      hset.Flush();
      out->push_back(CounterAdd("HINCRBY", "HINCRBYFLOAT",
                                {std::string(key), std::string(f.name.view())}, value));
    } else {
      hset.Add(f.name.view(), value);
    }
  }
}

void PlanSet(std::string_view key, const crdt::SetValue& s, std::vector<Command>* out) {
  Batcher sadd(out, {"SADD", std::string(key)});
  for (size_t i = 0; i < s.size(); ++i) sadd.Add(s.at(i).name.view());
}

void PlanZset(std::string_view key, const crdt::ZsetValue& z, const crdt::RegionTable& regions,
              std::vector<Command>* out) {
  std::vector<Command> increments;
  {
    Batcher zadd(out, {"ZADD", std::string(key)});
    for (size_t i = 0; i < z.size(); ++i) {
      const crdt::ZsetValue::Member& m = z.at(i);
      char buf[resp::kDoubleTextMax];  // "%.17g": parses back to the same double
      const std::string score(resp::DoubleText(z.Score(m, regions), buf));
      if (m.reg.Counted(regions)) {
        increments.push_back({"ZINCRBY", std::string(key), score, std::string(m.name.view())});
      } else {
        zadd.Add(score, m.name.view());
      }
    }
  }
  for (Command& c : increments) out->push_back(std::move(c));
}

void PlanList(std::string_view key, const crdt::ListValue& l, std::vector<Command>* out) {
  Batcher rpush(out, {"RPUSH", std::string(key)});
  for (size_t i = 0; i < l.size(); ++i) rpush.Add(l.at(i).value.view());
}

// Entries after the live stream's last id; then, for a stream the merge creates, its metadata;
// then every group the live stream lacks, with its consumers and pending entries (what Redis's
// own AOF rewrite writes for a stream: XADD, XSETID, XGROUP CREATE, CREATECONSUMER, XCLAIM).
void PlanStream(std::string_view key, const crdt::StreamValue& s, const LiveKey& live, bool create,
                std::vector<Command>* out) {
  const std::string k(key);
  for (const auto& [id, item] : s.items()) {
    if (!create && id <= live.stream_last_id) continue;
    Command c{"XADD", k, IdText(id)};
    for (const std::string& f : item.shown().fields) c.push_back(f);
    out->push_back(std::move(c));
  }
  const crdt::StreamMeta meta = s.meta();
  if (create) {
    if (s.items().empty()) {
      // A stream without entries: created by an entry trimmed away at once (as Redis's rewrite).
      out->push_back({"XADD", k, "MAXLEN", "0", IdText(meta.last_id), "x", "y"});
    }
    out->push_back({"XSETID", k, IdText(meta.last_id), "ENTRIESADDED",
                    absl::StrCat(std::max<uint64_t>(meta.entries_added, s.items().size())),
                    "MAXDELETEDID", IdText(meta.max_deleted)});
  }
  for (const auto& [name, g] : s.groups().groups()) {
    if (!g.exists()) continue;
    if (std::find(live.stream_groups.begin(), live.stream_groups.end(), name) !=
        live.stream_groups.end()) {
      continue;
    }
    const crdt::StreamGroups::View last = g.last();
    out->push_back({"XGROUP", "CREATE", k, name, IdText(last.last_ms, last.last_seq), "ENTRIESREAD",
                    absl::StrCat(last.entries_read)});
    for (const auto& [consumer, c] : g.consumers) {
      out->push_back({"XGROUP", "CREATECONSUMER", k, name, consumer});
    }
    for (const auto& [id, pending] : g.pel) {
      const crdt::StreamGroups::PendingInstance& p = pending.shown();
      out->push_back({"XCLAIM", k, name, p.consumer, "0", IdText(id.first, id.second), "TIME",
                      absl::StrCat(p.delivery_ms), "RETRYCOUNT", absl::StrCat(p.count), "FORCE",
                      "JUSTID"});
    }
  }
}

}  // namespace

KeyMergePlan PlanKeyMerge(std::string_view key, const crdt::Entry& backup,
                          const crdt::RegionTable& regions, const LiveKey& live, int64_t now_ms) {
  KeyMergePlan plan;
  const int64_t deadline = backup.DeadlineMs();
  if (deadline != crdt::kNoDeadline && deadline <= now_ms) {
    plan.kind = KeyMergePlan::Kind::kExpired;
    return plan;
  }
  const crdt::ValueType type = backup.Type(regions);
  if (live.type != crdt::ValueType::kNone && live.type != type) {
    plan.kind = KeyMergePlan::Kind::kConflict;
    return plan;
  }
  const bool create = live.type == crdt::ValueType::kNone;
  plan.kind = create ? KeyMergePlan::Kind::kCreate : KeyMergePlan::Kind::kMerge;
  switch (type) {
    case crdt::ValueType::kString:
      PlanString(key, backup, regions, create, &plan.commands);
      break;
    case crdt::ValueType::kHash:
      PlanHash(key, *backup.hash(), regions, &plan.commands);
      break;
    case crdt::ValueType::kSet:
      PlanSet(key, *backup.set(), &plan.commands);
      break;
    case crdt::ValueType::kZset:
      PlanZset(key, *backup.zset(), regions, &plan.commands);
      break;
    case crdt::ValueType::kList:
      PlanList(key, *backup.list(), &plan.commands);
      break;
    case crdt::ValueType::kStream:
      PlanStream(key, *backup.stream(), live, create, &plan.commands);
      break;
    case crdt::ValueType::kNone:
      break;
  }
  if (create && deadline != crdt::kNoDeadline) {
    plan.commands.push_back({"PEXPIREAT", std::string(key), absl::StrCat(deadline)});
  }
  return plan;
}

}  // namespace activekv::server
