#include "syncer/receiver_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"

namespace activekv::syncer {

ReceiverCore::ReceiverCore(Options options, ReceiverHost* host)
    : options_(std::move(options)), host_(host) {
  links_.reserve(options_.peers.size());
  for (const std::string& peer : options_.peers) {
    Link& link = links_.emplace_back();
    link.name = peer;
    link.backoff_ms = options_.min_backoff_ms;
  }
}

ReceiverCore::Link* ReceiverCore::Find(std::string_view peer) {
  for (Link& link : links_) {
    if (link.name == peer) return &link;
  }
  return nullptr;
}

const ReceiverCore::Link* ReceiverCore::Find(std::string_view peer) const {
  for (const Link& link : links_) {
    if (link.name == peer) return &link;
  }
  return nullptr;
}

bool ReceiverCore::Connect(const std::string& peer, int64_t now, v1::PullRequest* hello) {
  Link* link = Find(peer);
  if (link == nullptr || link->open || now < link->next_attempt_ms) return false;
  hello->Clear();
  hello->set_database(options_.database);
  hello->set_region(options_.region);
  ToEntries(host_->durable_applied(), hello->mutable_applied());
  link->last_synced.clear();
  if (const NamedVV* synced = SyncedToAnnounce()) {
    ToEntries(*synced, hello->mutable_synced());
    link->last_synced = *synced;
  }
  link->last_direct = DirectOrigins(link, now);
  for (const std::string& o : link->last_direct) hello->mutable_direct()->add_origins(o);
  link->last_ack = FromEntries(hello->applied());
  hello->set_hold(true);
  link->open = true;
  link->ack_lsn = 0;
  link->snapshot.clear();  // a snapshot is merged whole or not at all
  link->ack_needed = false;
  link->stream_replied = false;
  link->go_sent = false;
  link->stream_start_ms = now;
  link->last_ack_ms = now;
  return true;
}

absl::Status ReceiverCore::Broken(Link* link, absl::Status status) {
  link->stats.last_error = std::string(status.message());
  return status;
}

absl::StatusOr<ReceiverCore::AckCheck> ReceiverCore::Receive(const std::string& peer,
                                                             v1::PullResponse* response,
                                                             int64_t now) {
  Link* link = Find(peer);
  if (link == nullptr || !link->open) {
    return absl::FailedPreconditionError("response without an open stream from " + peer);
  }
  link->stats.bytes_received += response->ByteSizeLong();
  if (!link->stats.connected) {
    link->stats.connected = true;
    link->backoff_ms = options_.min_backoff_ms;
  }
  link->last_response_ms = now;
  if (!response->sender_origin().empty()) link->origin = response->sender_origin();
  const bool first = !link->stream_replied;
  link->stream_replied = true;
  if (!link->replied) {
    // The hello reply: which ops of our origins (current and dead incarnations) this peer holds.
    link->replied = true;
    for (const v1::VersionEntry& e : response->sender_applied()) {
      MergeInto(&link->held, {{e.region(), e.seq()}});
      if (crdt::IsOriginOf(e.region(), options_.region)) {
        MergeInto(&link->own_held, {{e.region(), e.seq()}});
      }
    }
    ComputeRequired(link);
    MaybeJoin(/*force=*/false, 0);
  }
  if (response->has_ops()) {
    ++link->stats.batches_received;
    size_t ops = 0;
    absl::StatusOr<uint64_t> lsn = host_->ApplyRemote(response->ops(), &ops);
    link->stats.ops_received += ops;
    if (!lsn.ok()) return Broken(link, lsn.status());
    link->ack_lsn = std::max(link->ack_lsn, *lsn);
    link->ack_needed = true;  // every batch is acknowledged (it frees a window slot)
  }
  if (response->has_snapshot()) {
    v1::Snapshot* chunk = response->mutable_snapshot();
    if (chunk->first()) link->snapshot.clear();
    if (link->snapshot.empty() && !chunk->first()) {
      return Broken(link, absl::DataLossError("snapshot chunk without its first chunk"));
    }
    const bool last = chunk->last();
    link->snapshot.emplace_back().Swap(chunk);
    if (last) {
      absl::StatusOr<uint64_t> lsn = host_->ApplySnapshot(link->snapshot);
      link->snapshot.clear();
      if (!lsn.ok()) return Broken(link, lsn.status());
      ++link->stats.full_resyncs_received;
      link->ack_lsn = std::max(link->ack_lsn, *lsn);
      link->ack_needed = true;
    }
  }
  if (response->has_messages()) {
    link->stats.messages_received += response->messages().messages_size();
  }
  if (response->sender_synced_size() > 0) {
    host_->keyspace().ObservePeerApplied(peer, response->sender_synced());
  }
  if (host_->catching_up()) MaybeFinishCatchUp(/*ignore_down=*/false);
  // Links holding their first ack for this one's first response may go now.
  return first ? AckCheck::kEveryLink : AckCheck::kThisLink;
}

bool ReceiverCore::TakeAck(const std::string& peer, int64_t now, v1::PullRequest* ack) {
  Link* link = Find(peer);
  if (link == nullptr) return false;
  if (!link->open) {
    link->stats.ack_state = "no-stream";
    return false;
  }
  if (!link->go_sent) {
    link->stats.ack_state = "holding-first-ack";
    if (!link->stream_replied) return false;
    if (!AllLinksAnswered() && now - link->stream_start_ms < options_.hold_ms) return false;
    link->go_sent = true;
    link->ack_needed = true;
  }
  if (host_->durable_lsn() < link->ack_lsn) {
    link->stats.ack_state = "waiting-durable";
    return false;
  }
  const NamedVV& applied = host_->durable_applied();
  const NamedVV* synced = SyncedToAnnounce();
  const bool synced_moved = synced != nullptr && *synced != link->last_synced;
  std::vector<std::string> direct = DirectOrigins(link, now);
  const bool direct_moved = direct != link->last_direct;
  if (!link->ack_needed && !synced_moved && !direct_moved) {
    link->stats.ack_state = "nothing-new";
    if (applied == link->last_ack) return false;
    if (now - link->last_ack_ms < options_.refresh_ack_ms) return false;  // a later call sends it
  }
  link->ack_needed = false;
  link->last_ack_ms = now;
  link->last_ack = applied;
  ack->Clear();
  ToEntries(applied, ack->mutable_applied());
  if (synced_moved) {
    link->last_synced = *synced;
    ToEntries(*synced, ack->mutable_synced());
  }
  if (direct_moved) {
    link->last_direct = std::move(direct);
    v1::Origins* d = ack->mutable_direct();
    for (const std::string& o : link->last_direct) d->add_origins(o);
  }
  link->stats.ack_state = "sent";
  return true;
}

void ReceiverCore::AckBlocked(const std::string& peer, const char* why) {
  if (Link* link = Find(peer)) link->stats.ack_state = why;
}

bool ReceiverCore::AckMayBeDue(const std::string& peer) const {
  const Link* link = Find(peer);
  return link != nullptr && link->open && link->stream_replied;
}

void ReceiverCore::StreamDone(const std::string& peer, std::string_view error, int64_t now) {
  Link* link = Find(peer);
  if (link == nullptr || !link->open) return;
  link->open = false;
  link->snapshot.clear();
  if (link->stats.connected) ++link->stats.reconnects;
  link->stats.connected = false;
  if (!error.empty()) link->stats.last_error = std::string(error);
  link->next_attempt_ms = now + link->backoff_ms;
  link->backoff_ms = std::min(link->backoff_ms * 2, options_.max_backoff_ms);
}

void ReceiverCore::ResetBackoff(const std::string& peer) {
  if (Link* link = Find(peer)) {
    link->backoff_ms = options_.min_backoff_ms;
    link->next_attempt_ms = 0;
  }
}

void ReceiverCore::ComputeRequired(Link* link) {
  const std::string& local = host_->keyspace().local_name();
  link->required.clear();
  for (const auto& [origin, seq] : link->own_held) {
    if (origin != local) link->required[origin] = seq;
  }
}

bool ReceiverCore::AllLinksAnswered() const {
  for (const Link& link : links_) {
    if (link.open && !link.stream_replied) return false;
  }
  return true;
}

void ReceiverCore::MaybeJoin(bool force, uint64_t floor) {
  if (!host_->joining()) return;
  uint64_t max_incarnation = 0;
  bool held = false;
  for (const Link& link : links_) {
    if (!link.replied && !force) return;
    for (const auto& [origin, seq] : link.own_held) {
      if (seq == 0) continue;
      held = true;
      uint64_t n = 0;
      if (origin.size() > options_.region.size()) {
        if (!absl::SimpleAtoi(origin.substr(options_.region.size() + 1), &n)) n = 0;
      }
      max_incarnation = std::max(max_incarnation, n);
    }
  }
  // No incarnation above one a peer holds ops of: joining would reuse its dots, so the region
  // stays joining (refusing writes) rather than wrap to 0 (found by sync_message_fuzz).
  if (held && max_incarnation == UINT64_MAX) return;
  uint64_t incarnation = held ? max_incarnation + 1 : 0;
  if (force) incarnation = std::max(incarnation, floor);
  if (!host_->FinishJoin(incarnation).ok()) return;
  for (Link& link : links_) ComputeRequired(&link);
  MaybeFinishCatchUp(/*ignore_down=*/force);
}

void ReceiverCore::MaybeFinishCatchUp(bool ignore_down) {
  if (!host_->catching_up() || host_->joining()) return;
  const NamedVV applied = FromKeyspace(host_->keyspace());
  for (const Link& link : links_) {
    if (ignore_down && !link.stats.connected) continue;
    if (!link.replied || !CoversAll(applied, link.held)) return;
  }
  host_->FinishCatchUp().IgnoreError();  // retried on the next response or CatchUpNow
}

void ReceiverCore::JoinNow(uint64_t floor) { MaybeJoin(/*force=*/true, floor); }

void ReceiverCore::CatchUpNow() { MaybeFinishCatchUp(/*ignore_down=*/true); }

const NamedVV* ReceiverCore::SyncedToAnnounce() {
  if (host_->joining()) return nullptr;
  if (!synced_allowed_) {
    crdt::Keyspace& ks = host_->keyspace();
    if (ks.local_name() != options_.region) {  // we have dead incarnations
      const NamedVV applied = FromKeyspace(ks);
      for (const Link& link : links_) {
        if (!link.replied || !CoversAll(applied, link.required)) return nullptr;
      }
    }
    synced_allowed_ = true;
    ks.HoldStability(false);
  }
  return &host_->synced_applied();
}

std::string_view ReceiverCore::DirectOrigin(const std::string& peer, int64_t now) const {
  const Link* link = Find(peer);
  if (link == nullptr || !link->open || !link->stats.connected) return {};
  if (now - link->last_response_ms > 3 * options_.heartbeat_ms) return {};
  return link->origin;
}

std::vector<std::string> ReceiverCore::DirectOrigins(const Link* except, int64_t now) const {
  // Our own current origin: we made every one of its ops (an earlier incarnation's may have been
  // lost, so those are still sent to us).
  std::vector<std::string> out{host_->keyspace().local_name()};
  for (const Link& link : links_) {
    if (&link == except) continue;
    std::string_view o = DirectOrigin(link.name, now);
    if (!o.empty()) out.emplace_back(o);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const ReceiverCore::LinkStats* ReceiverCore::stats(const std::string& peer) const {
  const Link* link = Find(peer);
  return link == nullptr ? nullptr : &link->stats;
}

bool ReceiverCore::open(const std::string& peer) const {
  const Link* link = Find(peer);
  return link != nullptr && link->open;
}

}  // namespace activekv::syncer
